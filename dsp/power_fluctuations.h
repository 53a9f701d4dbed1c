// TrackFluctuations: one frame's step of the regression behind Valin's (2007) leak estimate,
// which both halves of the echo canceller use (BlockAdaptiveFilter's double-talk step and
// EchoSuppressor's residual echo): how much of the echo estimate's power Y is still in the
// error's E, read not from the powers (near-end speech in E would count as leak) but from their
// fluctuations about slow running means, per bin, summed over bins. Near speech is not
// correlated with Y's fluctuations and leaves the covariance alone; a misadjusted filter leaves
// an error that rises and falls with the echo.
//
//   PowerFluctuations f = TrackFluctuations(error_power, echo_power, error_mean, echo_mean, w);
//   leak ~ smoothed(f.covariance) / smoothed(f.variance)
//
// The callers smooth the sums over frames as their rates demand.
#ifndef AUDIOPROC_DSP_POWER_FLUCTUATIONS_H_
#define AUDIOPROC_DSP_POWER_FLUCTUATIONS_H_

#include <span>

namespace audioproc {

struct PowerFluctuations {
  double covariance = 0;  // sum over bins of (|E|^2 - its mean)(|Y|^2 - its mean)
  double variance = 0;    // sum over bins of (|Y|^2 - its mean)^2
};

// The sums about the means as they were, then each mean moved `mean_weight` of the way toward
// its power. All four spans have the same length. Allocates nothing.
PowerFluctuations TrackFluctuations(std::span<const float> error_power,
                                    std::span<const float> echo_power, std::span<float> error_mean,
                                    std::span<float> echo_mean, double mean_weight) noexcept;

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_POWER_FLUCTUATIONS_H_
