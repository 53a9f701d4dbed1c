"""Aligning a contender's output with a reference signal, for the scorers of `make bench-dsp`
(run_dsp_bench.py, run_aec_bench.py): the lag of greatest correlation within a window, and the
output moved by it."""

import numpy as np
import scipy.fft


def best_lag(ref, out, max_lag):
    """The lag (samples, out behind ref when positive) within +-max_lag of greatest correlation."""
    # Zero-padding by max_lag is enough: the circular correlation's wrap-around then reaches
    # only lags beyond the window. In float32 with scipy's FFT at a 5-smooth size: a quarter of
    # numpy's time, which keeps the quick runs under CTest's minute.
    size = scipy.fft.next_fast_len(max(len(ref), len(out)) + max_lag, real=True)
    r = scipy.fft.irfft(scipy.fft.rfft(out.astype(np.float32), size)
                        * np.conj(scipy.fft.rfft(ref.astype(np.float32), size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    values = np.concatenate([r[: max_lag + 1], r[-max_lag:]])
    return int(lags[np.argmax(values)])


def shifted(out, lag):
    """`out` moved `lag` samples earlier (later when negative), zero-filled, same length."""
    if lag == 0:
        return out
    y = np.zeros_like(out)
    if lag > 0:
        y[:-lag] = out[lag:]
    else:
        y[-lag:] = out[:lag]
    return y
