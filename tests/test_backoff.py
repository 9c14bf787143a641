"""The shared back-off: doubling to its cap, jitter that only ever shortens a wait, a reset after a link held."""

import pytest

from station.backoff import Backoff


def test_doubles_to_its_cap_and_resets_without_jitter():
    backoff = Backoff(0.1, 1.0, jitter=0)
    assert [backoff.next() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert backoff.attempts == 6
    backoff.reset()
    assert backoff.next() == pytest.approx(0.1)


def test_jitter_shortens_each_wait_by_up_to_its_fraction_and_never_passes_the_cap():
    draws = iter([0.0, 0.5, 0.999, 0.25])
    backoff = Backoff(1.0, 4.0, jitter=0.2, rng=lambda: next(draws))
    assert [backoff.next() for _ in range(4)] == pytest.approx([1.0, 1.8, 3.2008, 3.8])
    spread = Backoff(2.0, 2.0)  # the real random source: every wait in (1.6, 2.0]
    waits = [spread.next() for _ in range(200)]
    assert all(1.6 < w <= 2.0 for w in waits) and len(set(waits)) > 100


def test_links_that_dropped_together_do_not_retry_in_step():
    first, second = Backoff(0.5, 8.0), Backoff(0.5, 8.0)
    assert [first.next() for _ in range(5)] != [second.next() for _ in range(5)]


@pytest.mark.parametrize("args", [(0, 1.0), (2.0, 1.0), (0.1, 1.0, 0.5), (0.1, 1.0, 2.0, 1.0)])
def test_a_nonsensical_back_off_is_refused(args):
    kwargs = dict(zip(("factor", "jitter"), args[2:]))
    with pytest.raises(ValueError, match="bad back-off"):
        Backoff(*args[:2], **kwargs)
