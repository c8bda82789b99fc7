"""The language-model adapter: the OpenAI-compatible chat client, prompt files, reasoning split."""
