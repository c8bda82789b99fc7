"""Answering: numbered context, prompts, the chat seam, tools, citations and the answer service.

Import from the submodules (`app.answer.service`, `app.answer.llm`, ...); nothing heavy is imported
here.
"""
