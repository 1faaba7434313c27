from __future__ import annotations

from datetime import date, time

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import DigestConfig, Settings
from bot.scheduler.jobs import DIGEST_JOB, SWEEP_JOB, build_scheduler
from kernel.clock import FixedClock
from tests.scheduler.drive import sent
from tests.scheduler.world import small_province, vn


async def test_scheduler_wiring_and_jobs_run(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        world = small_province(session)
        world.make_plan()
        task = world.task(1, "Công khai ngân sách", due=date(2026, 8, 14))
        world.assign(task, "A", created=vn(2026, 7, 1, 9), officials=("Lan",))
        world.commit()
    settings = Settings(digest=DigestConfig(weekday="fri", time=time(16, 45)))
    clock = FixedClock(vn(2026, 8, 7, 8, 1))
    woken: list[int] = []
    scheduler = build_scheduler(engine, settings, clock, lambda: woken.append(1))
    assert str(scheduler.timezone) == "Asia/Ho_Chi_Minh"
    scheduler.start(paused=True)
    try:
        assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
        sweep_job = scheduler.get_job(SWEEP_JOB)
        digest_job = scheduler.get_job(DIGEST_JOB)
        assert sweep_job is not None and digest_job is not None
        assert isinstance(sweep_job.trigger, IntervalTrigger)
        assert sweep_job.trigger.interval.total_seconds() == 60
        assert sweep_job.coalesce and sweep_job.max_instances == 1
        assert isinstance(digest_job.trigger, CronTrigger)
        assert "day_of_week='fri'" in repr(digest_job.trigger)
        assert "hour='16', minute='45'" in repr(digest_job.trigger)
        await sweep_job.func()
        kinds = [m.kind for m in sent(engine)]
        # the reminder due at 08:00, and last Friday's digest (the bot was not running)
        assert (kinds.count("reminder"), kinds.count("digest")) == (1, 3)
        assert woken == [1]
        await sweep_job.func()  # nothing new: no wake-up
        assert woken == [1]
        clock.set(vn(2026, 8, 7, 16, 45))
        await digest_job.func()
        assert [m.kind for m in sent(engine)].count("digest") == 6
        assert woken == [1, 1]
    finally:
        scheduler.shutdown(wait=False)
