"""Policy engine: the clinic script as a LangGraph state machine over Pydantic slots."""
