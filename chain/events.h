// Events: what processors report besides audio (voice activity and speech probability,
// loudness readings, analysis, echo delay), in plain structs the service turns into proto Events.
//
// A processor reports from inside Process through the EventSink its chain gave it; the sink
// never allocates (a fixed capacity between drains, overflow counted), so Process stays
// real-time safe. The chain maps each event's frame to the output frame it refers to.
// Thread safety: a sink is used by one stream's thread at a time.
#ifndef AUDIOPROC_CHAIN_EVENTS_H_
#define AUDIOPROC_CHAIN_EVENTS_H_

#include <array>
#include <cstdint>
#include <variant>
#include <vector>

namespace audioproc {

struct VoiceActivityEvent {
  bool active = false;
  float probability = 0;
};

// vad's periodic report (report_interval_ms): the mean speech probability of the interval's
// 10 ms hops, and whether speech was active at its end as decided by then.
struct SpeechProbabilityEvent {
  float probability = 0;
  bool active = false;
};

struct LoudnessEvent {
  float momentary_lufs = 0;
  float short_term_lufs = 0;
  float integrated_lufs = 0;
  float gain_db = 0;
};

inline constexpr uint32_t kMaxAnalysisBands = 32;

struct AnalysisEvent {
  float peak_dbfs = 0;
  float rms_dbfs = 0;
  float spectral_centroid_hz = 0;
  uint32_t num_bands = 0;
  std::array<float, kMaxAnalysisBands> band_energy_db{};
};

// aec's report when its estimate of the echo's delay behind the far-end reference changes.
struct EchoDelayEvent {
  float delay_ms = 0;
};

using EventPayload = std::variant<VoiceActivityEvent, LoudnessEvent, AnalysisEvent,
                                  SpeechProbabilityEvent, EchoDelayEvent>;

struct ProcessorEvent {
  uint64_t frame = 0;  // the output frame it refers to
  uint32_t processor_index = 0;
  EventPayload payload;
};

class EventSink {
 public:
  // Reports `payload` about frame `frame` of the processor's own input (counted from the
  // start of the stream). Real-time safe.
  virtual void Emit(uint64_t frame, const EventPayload& payload) noexcept = 0;

 protected:
  ~EventSink() = default;
};

// The chain's buffer of events between drains. Fixed capacity, allocated up front by Reserve;
// an event past it is dropped and counted.
class EventBuffer {
 public:
  void Reserve(size_t capacity) { events_.reserve(capacity); }
  void Push(const ProcessorEvent& event) noexcept {
    if (events_.size() < events_.capacity()) {
      events_.push_back(event);
    } else {
      ++dropped_;
    }
  }
  const std::vector<ProcessorEvent>& events() const { return events_; }
  void Clear() noexcept { events_.clear(); }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<ProcessorEvent> events_;
  uint64_t dropped_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_EVENTS_H_
