#include "dsp/biquad_design.h"

#include <cmath>
#include <numbers>

namespace audioproc {
namespace {

// Divides every coefficient by a0, the form BiquadCascade runs.
BiquadCoefficients Normalized(double b0, double b1, double b2, double a0, double a1, double a2) {
  const double inv = 1.0 / a0;
  return {b0 * inv, b1 * inv, b2 * inv, a1 * inv, a2 * inv};
}

}  // namespace

BiquadCoefficients FirstOrderPass(bool highpass, double cutoff_hz, double sample_rate_hz) {
  // Bilinear transform of 1 / (s + 1) or s / (s + 1) with the cutoff prewarped:
  // s = (1 / K) (1 - z^-1) / (1 + z^-1), K = tan(pi fc / fs).
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate_hz);
  const double a1 = (k - 1) / (k + 1);
  if (highpass) {
    const double b0 = 1 / (1 + k);
    // b1 = -b0 exactly: the zero sits on z = 1, so DC is cancelled up to roundoff.
    return {b0, -b0, 0, a1, 0};
  }
  const double b0 = k / (1 + k);
  return {b0, b0, 0, a1, 0};
}

BiquadCoefficients SecondOrderPass(bool highpass, double cutoff_hz, double q,
                                   double sample_rate_hz) {
  // The tangent form rather than the cookbook's cos / sin form: at low cutoffs
  // 1 - cos(w0) loses digits to cancellation, K^2 does not.
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate_hz);
  const double k2 = k * k;
  const double a0 = 1 + k / q + k2;
  const double a1 = 2 * (k2 - 1);
  const double a2 = 1 - k / q + k2;
  if (highpass) return Normalized(1, -2, 1, a0, a1, a2);
  return Normalized(k2, 2 * k2, k2, a0, a1, a2);
}

BiquadSections DesignButterworth(bool highpass, int order, double cutoff_hz,
                                 double sample_rate_hz) {
  BiquadSections sections;
  // The analog Butterworth poles are -sin(phi_k) + j cos(phi_k), phi_k = pi (2k - 1) / (2N):
  // a conjugate pair at phi_k is a section of quality 1 / (2 sin(phi_k)). All poles share the
  // radius, so every section is prewarped at the same cutoff. Going from the pair nearest the
  // real axis (lowest q) to the most resonant keeps intermediate peaks small.
  for (int k = order / 2; k >= 1; --k) {
    const double phi = std::numbers::pi * (2 * k - 1) / (2.0 * order);
    sections.Add(SecondOrderPass(highpass, cutoff_hz, 1 / (2 * std::sin(phi)), sample_rate_hz));
  }
  if (order % 2 == 1) sections.Add(FirstOrderPass(highpass, cutoff_hz, sample_rate_hz));
  return sections;
}

BiquadCoefficients RbjBiquad(FilterType type, double frequency_hz, double q, double gain_db,
                             double sample_rate_hz) {
  // Robert Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients".
  const double w0 = 2 * std::numbers::pi * frequency_hz / sample_rate_hz;
  const double cos_w0 = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * q);
  const double a = std::pow(10.0, gain_db / 40);
  switch (type) {
    case FilterType::kBandpass:  // constant 0 dB peak gain
      return Normalized(alpha, 0, -alpha, 1 + alpha, -2 * cos_w0, 1 - alpha);
    case FilterType::kNotch:
      return Normalized(1, -2 * cos_w0, 1, 1 + alpha, -2 * cos_w0, 1 - alpha);
    case FilterType::kPeaking:
      return Normalized(1 + alpha * a, -2 * cos_w0, 1 - alpha * a, 1 + alpha / a, -2 * cos_w0,
                        1 - alpha / a);
    case FilterType::kLowshelf: {
      const double s = 2 * std::sqrt(a) * alpha;
      return Normalized(a * ((a + 1) - (a - 1) * cos_w0 + s), 2 * a * ((a - 1) - (a + 1) * cos_w0),
                        a * ((a + 1) - (a - 1) * cos_w0 - s), (a + 1) + (a - 1) * cos_w0 + s,
                        -2 * ((a - 1) + (a + 1) * cos_w0), (a + 1) + (a - 1) * cos_w0 - s);
    }
    case FilterType::kHighshelf: {
      const double s = 2 * std::sqrt(a) * alpha;
      return Normalized(a * ((a + 1) + (a - 1) * cos_w0 + s), -2 * a * ((a - 1) + (a + 1) * cos_w0),
                        a * ((a + 1) + (a - 1) * cos_w0 - s), (a + 1) - (a - 1) * cos_w0 + s,
                        2 * ((a - 1) - (a + 1) * cos_w0), (a + 1) - (a - 1) * cos_w0 - s);
    }
    case FilterType::kLowpass:
    case FilterType::kHighpass:
      return SecondOrderPass(type == FilterType::kHighpass, frequency_hz, q, sample_rate_hz);
  }
  return {};
}

BiquadSections DesignBiquadFilter(const FilterDesign& design, double sample_rate_hz) {
  const bool highpass = design.type == FilterType::kHighpass;
  if (design.type == FilterType::kLowpass || highpass) {
    if (design.order == 2) {
      BiquadSections sections;
      sections.Add(SecondOrderPass(highpass, design.frequency_hz, design.q, sample_rate_hz));
      return sections;
    }
    return DesignButterworth(highpass, design.order, design.frequency_hz, sample_rate_hz);
  }
  BiquadSections sections;
  sections.Add(
      RbjBiquad(design.type, design.frequency_hz, design.q, design.gain_db, sample_rate_hz));
  return sections;
}

}  // namespace audioproc
