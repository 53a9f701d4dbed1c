#include "tests/testing/reference_filters.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "dsp/audio_block.h"
#include "gtest/gtest.h"

namespace audioproc::testing {
namespace {

using Complex = std::complex<double>;
constexpr double kPi = std::numbers::pi;

Complex Product(const std::vector<Complex>& values, Complex offset, bool negate) {
  Complex product = 1;
  for (const Complex& v : values) product *= negate ? offset - v : v;
  return product;
}

}  // namespace

Zpk ButterworthZpk(int order, double cutoff_hz, bool highpass, double sample_rate_hz) {
  // scipy.signal.butter / iirfilter: the cutoff normalized to Nyquist, prewarped for a
  // bilinear transform at fs = 2.
  const double wn = 2 * cutoff_hz / sample_rate_hz;
  const double fs = 2.0;
  const double warped = 2 * fs * std::tan(kPi * wn / fs);
  // buttap: p = -exp(j pi m / (2N)), m = -N+1, -N+3, ..., N-1; no zeros; k = 1.
  Zpk analog;
  for (int m = -order + 1; m < order; m += 2) {
    analog.poles.push_back(-std::exp(Complex(0, kPi * m / (2.0 * order))));
  }
  if (highpass) {
    // lp2hp_zpk: p -> wo / p, a zero at s = 0 for each pole, k *= real(prod(-z) / prod(-p)).
    Complex prod_neg_p = 1;
    for (Complex& p : analog.poles) {
      prod_neg_p *= -p;
      p = warped / p;
    }
    analog.gain = (Complex(1) / prod_neg_p).real();
    analog.zeros.assign(order, Complex(0));
  } else {
    // lp2lp_zpk: p -> wo p, k *= wo^degree.
    for (Complex& p : analog.poles) p *= warped;
    analog.gain = std::pow(warped, order);
  }
  // bilinear_zpk: z -> (2fs + z) / (2fs - z); zeros at z = -1 for the missing ones;
  // k *= real(prod(2fs - z) / prod(2fs - p)).
  const double fs2 = 2 * fs;
  Zpk digital;
  for (const Complex& z : analog.zeros) digital.zeros.push_back((fs2 + z) / (fs2 - z));
  for (const Complex& p : analog.poles) digital.poles.push_back((fs2 + p) / (fs2 - p));
  const size_t degree = analog.poles.size() - analog.zeros.size();
  for (size_t i = 0; i < degree; ++i) digital.zeros.emplace_back(-1);
  digital.gain =
      analog.gain * (Product(analog.zeros, fs2, true) / Product(analog.poles, fs2, true)).real();
  return digital;
}

double ZpkMagnitude(const Zpk& zpk, double frequency_hz, double sample_rate_hz) {
  const Complex z = std::exp(Complex(0, 2 * kPi * frequency_hz / sample_rate_hz));
  double magnitude = std::fabs(zpk.gain);
  for (const Complex& zero : zpk.zeros) magnitude *= std::abs(z - zero);
  for (const Complex& pole : zpk.poles) magnitude /= std::abs(z - pole);
  return magnitude;
}

double CookbookMagnitude(Cookbook shape, double f0_hz, double q, double gain_db,
                         double frequency_hz, double sample_rate_hz) {
  const double w0 = 2 * kPi * f0_hz / sample_rate_hz;
  const double c = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * q);
  const double A = std::pow(10.0, gain_db / 40);
  const double root = 2 * std::sqrt(A) * alpha;
  double b[3] = {0, 0, 0}, a[3] = {1, 0, 0};
  auto set = [&](double b0, double b1, double b2, double a0, double a1, double a2) {
    b[0] = b0, b[1] = b1, b[2] = b2, a[0] = a0, a[1] = a1, a[2] = a2;
  };
  switch (shape) {
    case Cookbook::kLowpass:
      set((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
      break;
    case Cookbook::kHighpass:
      set((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
      break;
    case Cookbook::kBandpass:
      set(alpha, 0, -alpha, 1 + alpha, -2 * c, 1 - alpha);
      break;
    case Cookbook::kNotch:
      set(1, -2 * c, 1, 1 + alpha, -2 * c, 1 - alpha);
      break;
    case Cookbook::kPeaking:
      set(1 + alpha * A, -2 * c, 1 - alpha * A, 1 + alpha / A, -2 * c, 1 - alpha / A);
      break;
    case Cookbook::kLowshelf:
      set(A * ((A + 1) - (A - 1) * c + root), 2 * A * ((A - 1) - (A + 1) * c),
          A * ((A + 1) - (A - 1) * c - root), (A + 1) + (A - 1) * c + root,
          -2 * ((A - 1) + (A + 1) * c), (A + 1) + (A - 1) * c - root);
      break;
    case Cookbook::kHighshelf:
      set(A * ((A + 1) + (A - 1) * c + root), -2 * A * ((A - 1) + (A + 1) * c),
          A * ((A + 1) + (A - 1) * c - root), (A + 1) - (A - 1) * c + root,
          2 * ((A - 1) - (A + 1) * c), (A + 1) - (A - 1) * c - root);
      break;
  }
  const Complex z1 = std::exp(Complex(0, -2 * kPi * frequency_hz / sample_rate_hz));
  const Complex z2 = z1 * z1;
  return std::abs((b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2));
}

double CookbookPoleRadius(Cookbook shape, double f0_hz, double q, double gain_db,
                          double sample_rate_hz) {
  const double w0 = 2 * kPi * f0_hz / sample_rate_hz;
  const double c = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * q);
  const double A = std::pow(10.0, gain_db / 40);
  const double root = 2 * std::sqrt(A) * alpha;
  double a0 = 1 + alpha, a1 = -2 * c, a2 = 1 - alpha;
  if (shape == Cookbook::kPeaking) a0 = 1 + alpha / A, a2 = 1 - alpha / A;
  if (shape == Cookbook::kLowshelf) {
    a0 = (A + 1) + (A - 1) * c + root, a1 = -2 * ((A - 1) + (A + 1) * c);
    a2 = (A + 1) + (A - 1) * c - root;
  }
  if (shape == Cookbook::kHighshelf) {
    a0 = (A + 1) - (A - 1) * c + root, a1 = 2 * ((A - 1) - (A + 1) * c);
    a2 = (A + 1) - (A - 1) * c - root;
  }
  // Roots of a0 z^2 + a1 z + a2.
  const Complex d = std::sqrt(Complex(a1 * a1 - 4 * a0 * a2));
  return std::max(std::abs((-a1 + d) / (2 * a0)), std::abs((-a1 - d) / (2 * a0)));
}

double CookbookPrototypeMagnitude(Cookbook shape, double f0_hz, double q, double gain_db,
                                  double frequency_hz, double sample_rate_hz) {
  const Complex s(
      0, std::tan(kPi * frequency_hz / sample_rate_hz) / std::tan(kPi * f0_hz / sample_rate_hz));
  const double A = std::pow(10.0, gain_db / 40);
  const double r = std::sqrt(A) / q;
  Complex h;
  switch (shape) {
    case Cookbook::kLowpass:
      h = 1.0 / (s * s + s / q + 1.0);
      break;
    case Cookbook::kHighpass:
      h = s * s / (s * s + s / q + 1.0);
      break;
    case Cookbook::kBandpass:
      h = (s / q) / (s * s + s / q + 1.0);
      break;
    case Cookbook::kNotch:
      h = (s * s + 1.0) / (s * s + s / q + 1.0);
      break;
    case Cookbook::kPeaking:
      h = (s * s + s * (A / q) + 1.0) / (s * s + s / (A * q) + 1.0);
      break;
    case Cookbook::kLowshelf:
      h = A * (s * s + r * s + A) / (A * s * s + r * s + 1.0);
      break;
    case Cookbook::kHighshelf:
      h = A * (A * s * s + r * s + 1.0) / (s * s + r * s + A);
      break;
  }
  return std::abs(h);
}

double ToDb(double magnitude) { return 20 * std::log10(std::max(magnitude, 1e-20)); }

double DtftMagnitude(std::span<const float> impulse_response, double frequency_hz,
                     double sample_rate_hz) {
  const Complex step = std::exp(Complex(0, -2 * kPi * frequency_hz / sample_rate_hz));
  Complex phasor = 1, sum = 0;
  for (size_t n = 0; n < impulse_response.size(); ++n) {
    sum += double{impulse_response[n]} * phasor;
    phasor *= step;
    // The recurrence drifts off the unit circle by roundoff; pull it back now and then.
    if (n % 1024 == 1023) phasor /= std::abs(phasor);
  }
  return std::abs(sum);
}

double ToneAmplitude(std::span<const float> signal, double frequency_hz, double sample_rate_hz) {
  double scc = 0, sss = 0, scs = 0, sxc = 0, sxs = 0;
  const double w = 2 * kPi * frequency_hz / sample_rate_hz;
  for (size_t n = 0; n < signal.size(); ++n) {
    const double c = std::cos(w * static_cast<double>(n));
    const double s = std::sin(w * static_cast<double>(n));
    scc += c * c, sss += s * s, scs += c * s;
    sxc += signal[n] * c, sxs += signal[n] * s;
  }
  const double det = scc * sss - scs * scs;
  const double a = (sxc * sss - sxs * scs) / det;
  const double b = (sxs * scc - sxc * scs) / det;
  return std::hypot(a, b);
}

void RunMono(Processor& processor, std::vector<float>& input, uint32_t block_frames) {
  for (size_t offset = 0; offset < input.size(); offset += block_frames) {
    float* channel = input.data() + offset;
    AudioBlock block(&channel, 1,
                     static_cast<uint32_t>(std::min<size_t>(block_frames, input.size() - offset)));
    processor.Process(block, block);
  }
}

std::vector<float> ImpulseResponse(Processor& processor, uint32_t block_frames, size_t max_frames) {
  std::vector<float> response;
  std::vector<float> block(block_frames);
  double peak = 0;
  while (response.size() < max_frames) {
    std::fill(block.begin(), block.end(), 0.0f);
    if (response.empty()) block[0] = 1;
    RunMono(processor, block, block_frames);
    double block_peak = 0;
    for (float x : block) block_peak = std::max(block_peak, std::fabs(double{x}));
    peak = std::max(peak, block_peak);
    response.insert(response.end(), block.begin(), block.end());
    if (block_peak < 1e-11 * peak) break;
  }
  return response;
}

ProcessorConfig NumericConfig(std::string name,
                              std::initializer_list<std::pair<const char*, double>> params) {
  ProcessorConfig config{std::move(name), {}};
  for (const auto& [param, value] : params) config.params.Set(param, value);
  return config;
}

absl::StatusOr<std::unique_ptr<Processor>> MakeProcessor(const ProcessorRegistry& registry,
                                                         const ProcessorConfig& config,
                                                         const ProcessSpec& spec) {
  absl::StatusOr<std::unique_ptr<Processor>> processor = registry.Create(config, spec, nullptr);
  if (!processor.ok()) return processor.status();
  absl::StatusOr<ProcessSpec> prepared = (*processor)->Prepare(spec);
  if (!prepared.ok()) return prepared.status();
  return processor;
}

void ApplyUpdate(const ProcessorRegistry& registry, absl::string_view name, Processor& processor,
                 const ParamValues& changes) {
  const ProcessorDefinition* definition = registry.Find(name);
  ASSERT_NE(definition, nullptr) << name;
  ASSERT_NE(definition->resolve_update, nullptr) << name << " has no run-time settings";
  processor.ApplyUpdate(*definition->resolve_update(changes));
}

}  // namespace audioproc::testing
