"""Test support shared by every test folder: hostile servers and fixtures written once."""
