"""The voice pipeline tests use the shared fixtures of tests/conftest.py: ``voice_stack`` (ONE real
stack per module: Whisper base, festival, dialog, outbox, call records, the fixed clock, the
greeting prerendered) and ``caller_voice`` (festival + sox, a voice that is not the agent's)."""
