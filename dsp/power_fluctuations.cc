#include "dsp/power_fluctuations.h"

#include <cstddef>

namespace audioproc {

PowerFluctuations TrackFluctuations(std::span<const float> error_power,
                                    std::span<const float> echo_power, std::span<float> error_mean,
                                    std::span<float> echo_mean, double mean_weight) noexcept {
  PowerFluctuations sums;
  for (size_t k = 0; k < error_power.size(); ++k) {
    const double de = double{error_power[k]} - error_mean[k];
    const double dy = double{echo_power[k]} - echo_mean[k];
    sums.covariance += de * dy;
    sums.variance += dy * dy;
    error_mean[k] += static_cast<float>(mean_weight * de);
    echo_mean[k] += static_cast<float>(mean_weight * dy);
  }
  return sums;
}

}  // namespace audioproc
