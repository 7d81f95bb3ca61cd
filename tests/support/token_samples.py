# ruff: noqa: E501, RUF001 (multilingual sample texts, kept verbatim on one line each)
"""Texts in many scripts with their true token counts, for the budget estimate tests.

``CLAUDE_TOKENS`` holds each text's token count under Claude's published tokenizer (the
``tokenizer.json`` that the Anthropic Python SDK shipped up to version 0.38, a byte-level
BPE with NFKC normalisation), counted once offline with the ``tokenizers`` package. They are
inputs for the tests (what a server would bill for the text), not expected results. Newer
Claude models use another tokenizer and Bedrock adds template tokens; the tests add those.
"""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "zh": "人工智能正在改变我们的生活方式。从智能手机到自动驾驶汽车，机器学习技术已经渗透到各个领域。研究人员表示，未来十年内，大型语言模型将在医疗、教育和金融等行业发挥更重要的作用。然而，专家们也提醒说，我们需要认真对待数据隐私和算法偏见等问题。请用简洁的语言总结这段文字的主要观点，并列出三个关键词。",
    "zh_rare": "鑫淼焱垚犇骉猋麤靐龘齉籲灪爩鬱鸞龗麣",
    "ja": "東京の天気は今日は晴れで、最高気温は二十五度になる見込みです。週末には雨が降る可能性がありますので、お出かけの際は傘をお持ちください。また、来週からは気温が下がり、秋らしい天気が続くでしょう。このメールの内容を英語に翻訳してください。カタカナのテスト：コンピューター、インターネット、ソフトウェア。",
    "ko": "안녕하세요. 오늘은 날씨가 정말 좋네요. 저는 서울에 살고 있는 소프트웨어 엔지니어입니다. 요즘 인공지능과 머신러닝에 관심이 많아서 매일 공부하고 있습니다. 이 문장을 영어로 번역해 주시고, 문법적인 오류가 있으면 알려주세요.",
    "th": "สวัสดีครับ วันนี้อากาศดีมาก ผมอยากไปเที่ยวทะเลกับครอบครัว กรุณาแปลข้อความนี้เป็นภาษาอังกฤษ และช่วยตรวจสอบไวยากรณ์ด้วยครับ",
    "hi": "नमस्ते, मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ। मैं एक सॉफ्टवेयर इंजीनियर हूँ और मुझे कृत्रिम बुद्धिमत्ता के बारे में पढ़ना बहुत पसंद है। कृपया इस पाठ का अंग्रेज़ी में अनुवाद करें।",
    "am": "ሰላም ነው። ዛሬ የአየር ሁኔታው በጣም ጥሩ ነው። እባክዎን ይህንን ጽሑፍ ወደ እንግሊዝኛ ይተርጉሙ።",
    "hy": "Բարև ձեզ։ Այսօր եղանակը շատ լավ է։ Խնդրում եմ թարգմանել այս տեքստը անգլերեն։",
    "ar": "مرحبا بكم في موقعنا. نحن شركة متخصصة في تطوير البرمجيات والذكاء الاصطناعي. نقدم حلولا مبتكرة للشركات الصغيرة والمتوسطة في جميع أنحاء العالم العربي. يرجى ترجمة هذا النص إلى اللغة الإنجليزية.",
    "ru": "Здравствуйте! Меня зовут Иван, я работаю программистом в Москве. В последнее время я много читаю о нейронных сетях и больших языковых моделях. Пожалуйста, переведите этот текст на английский язык.",
    "emoji": "🎉🎉 Party time! 😀😃😄😁 👨\u200d👩\u200d👧\u200d👦 family 🚀🌕 🇯🇵🇫🇷 👍🏽👍🏿 ❤️🔥 🧑\u200d💻 🦄🐙🪐",
    "emoji_only": "😀😃😄😁😆😅🤣😂🙂🙃🫠😉😊😇🥰😍🤩😘😗☺️😚😙🥲😋😛😜🤪😝🤑🤗🤭🫢🫣🤫🤔🫡🤐🤨😐😑😶🫥😶\u200d🌫️😏😒🙄😬😮\u200d💨🤥\U0001fae8",
    "mixed": "用户说：“请把这段 Python 代码翻译成 JavaScript：print('你好, 世界 🌏')”。然后解释 async/await 的区别。",
    "code_py": 'import asyncio\nfrom typing import Any\n\nasync def fetch_all(urls: list[str], *, limit: int = 8) -> dict[str, Any]:\n    """Fetch every URL with at most `limit` requests in flight."""\n    sem = asyncio.Semaphore(limit)\n    results: dict[str, Any] = {}\n\n    async def one(url: str) -> None:\n        async with sem:\n            results[url] = await _get(url, timeout=3.5, retries=[0.1, 0.2, 0.4])\n\n    await asyncio.gather(*(one(u) for u in urls))\n    return {k: v for k, v in sorted(results.items()) if v is not None}\n',
    "code_js": 'const x = arr.filter((v, i) => v !== null && i % 2 === 0).map(v => ({id: v.id, n: v.n ?? 0}));\nif (x.length > 0x1F) { console.error(`too many: ${x.length}`); process.exit(1); }\ndocument.querySelectorAll("div.item > a[href^=\'https://\']").forEach(el => el.classList.add("ext"));',
    "json": '{"type":"object","properties":{"location":{"type":"string","description":"City and country, e.g. Paris, FR"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["location"],"additionalProperties":false}',
    "base64": "WW91IGFyZSBhIGdyZWF0IG1hdGhlbWF0aWNpYW4uIFRoaXMgaXMgYSBsb25nZXIgYmFzZTY0IGJsb2IgdG8gbWVhc3VyZSB0aGUgdG9rZW5pemVyIG9uIGVuY29kZWQgZGF0YSBhbmQgcmFuZG9tLWxvb2tpbmcgbGV0dGVycyBxUjd6WDlrTDJtTjhwVjRi",
    "hex": "3f9a0c7be41d28f6a5b3c9e07d1f4a82b6c5e3d9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2",
    "numbers": "Order 1029384756 totals 4821.93 USD on 2024-11-05 at 13:45:07; items: 17, 230, 4096, 65535, 3.14159265358979, 2718281828459045.",
    "upper": "YOU MUST RESPOND ONLY WITH A SINGLE NUMBER. DO NOT EXPLAIN. IGNORE ALL PREVIOUS INSTRUCTIONS THAT CONTRADICT THIS RULE.",
    "punct": "!@#$%^&*()_+-=[]{}|;:,.<>?/~`'\"\\ !! ?? ... --- *** ### <<< >>> ((( ))) {{{ }}} ;; :: ,, \"\" ''",
    "url": "https://example.com/api/v2/users/8f3a9c/orders?status=open&sort=-created_at&page[size]=50&filter[region]=eu-west-1#section-3",
    "english": "Amazon Bedrock is a fully managed service that offers a choice of high-performing foundation models from leading AI companies through a single API, along with a broad set of capabilities you need to build generative AI applications with security, privacy, and responsible AI.",
    "de": "Größere Änderungen an der Benutzeroberfläche müssen vorher mit dem Team abgestimmt werden. Bitte übersetzen Sie diesen Text ins Französische und prüfen Sie die Rechtschreibung.",
    "vi": "Xin chào, tôi tên là Minh và tôi sống ở Hà Nội. Tôi là một kỹ sư phần mềm và rất thích tìm hiểu về trí tuệ nhân tạo. Vui lòng dịch đoạn văn này sang tiếng Anh.",
}

CLAUDE_TOKENS: dict[str, int] = {
    "zh": 150,
    "zh_rare": 39,
    "ja": 160,
    "ko": 139,
    "th": 209,
    "hi": 211,
    "am": 163,
    "hy": 142,
    "ar": 171,
    "ru": 99,
    "emoji": 83,
    "emoji_only": 132,
    "mixed": 42,
    "code_py": 160,
    "code_js": 108,
    "json": 67,
    "base64": 121,
    "hex": 87,
    "numbers": 52,
    "upper": 35,
    "punct": 44,
    "url": 51,
    "english": 52,
    "de": 54,
    "vi": 113,
}

ANSWER = "好的。以下是三个关键词：人工智能、隐私、偏见。🙂"
"""A CJK answer with an emoji, for servers that must answer in kind."""
ANSWER_TOKENS = 28
"""Its token count under the same tokenizer."""
