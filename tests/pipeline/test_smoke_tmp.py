import asyncio, pytest
from tests.support.voice_fakes import FakeDialog, Line

@pytest.mark.looptime
async def test_smoke():
    line = Line(FakeDialog(["Здравствуйте! Чем могу помочь?", "Записала вас. До свидания!"]))
    await line.wait(3)
    await line.say("Хочу записаться на МРТ")
    await line.finished(60)
    print(line.dialog.heard, line.dialog.ended)
    for e in line.transcript: print(e)
    print(len(line.sink.frames), line.now())
