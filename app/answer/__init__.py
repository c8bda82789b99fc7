"""Answering: numbered context, prompts, the chat seam, tools, citations and the answer service.

Import from the submodules (`app.answer.service`, `app.llm.client`, ...); nothing heavy is imported
here.
"""
