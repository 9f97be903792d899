"""``salesagent demo``: a whole phone call between a simulated Russian caller and the real agent.

The caller is a scripted persona (YAML data in ``personas/``) spoken by festival shifted in pitch
and tempo and band-limited to 8 kHz, talking over the real mod_audio_fork WebSocket path to the
agent served in-process.
"""
