"""The MCP shell: homerag's services as Model Context Protocol tools (stdio and streamable HTTP)."""
