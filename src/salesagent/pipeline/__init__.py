"""The voice pipeline: one phone call = VAD + streaming ASR -> dialog -> streamed TTS, with barge-in.

:class:`~salesagent.pipeline.voice_agent.VoiceAgent` is the :class:`~salesagent.transport.CallHandler`
every bridge (mod_audio_fork, Twilio, AudioSocket) runs per call. The rest are small parts it is
made of: turn-taking (``turns``), the per-turn latency timeline (``latency``), Prometheus metrics
(``metrics``), the stereo call recording (``recorder``) and the call report (``report``).
"""
