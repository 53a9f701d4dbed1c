from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AIFF: Container
ALAW: Encoding
BANDPASS: EqBandType
CONTAINER_UNSPECIFIED: Container
DESCRIPTOR: _descriptor.FileDescriptor
DITHER_NONE: Dither
DITHER_TPDF: Dither
ENCODING_UNSPECIFIED: Encoding
EQ_BAND_TYPE_UNSPECIFIED: EqBandType
FLAC: Container
HIGH: ResampleQuality
HIGHPASS: EqBandType
HIGHSHELF: EqBandType
LOW: ResampleQuality
LOWPASS: EqBandType
LOWSHELF: EqBandType
MEDIUM: ResampleQuality
MULAW: Encoding
NOTCH: EqBandType
OGG_OPUS: Container
OGG_VORBIS: Container
PCM_F32LE: Encoding
PCM_S16LE: Encoding
PCM_S24LE: Encoding
PCM_S32LE: Encoding
PEAKING: EqBandType
RESAMPLE_QUALITY_UNSPECIFIED: ResampleQuality
STREAM_CHANGE_KIND_ENDED: StreamChangeKind
STREAM_CHANGE_KIND_STARTED: StreamChangeKind
STREAM_CHANGE_KIND_UNSPECIFIED: StreamChangeKind
STREAM_CHANGE_KIND_UPDATED: StreamChangeKind
VERY_HIGH: ResampleQuality
WAV: Container

class Aec(_message.Message):
    __slots__ = ["reference_channels", "suppression"]
    REFERENCE_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_FIELD_NUMBER: _ClassVar[int]
    reference_channels: int
    suppression: float
    def __init__(self, reference_channels: _Optional[int] = ..., suppression: _Optional[float] = ...) -> None: ...

class Analysis(_message.Message):
    __slots__ = ["band_energy_db", "peak_dbfs", "rms_dbfs", "spectral_centroid_hz"]
    BAND_ENERGY_DB_FIELD_NUMBER: _ClassVar[int]
    PEAK_DBFS_FIELD_NUMBER: _ClassVar[int]
    RMS_DBFS_FIELD_NUMBER: _ClassVar[int]
    SPECTRAL_CENTROID_HZ_FIELD_NUMBER: _ClassVar[int]
    band_energy_db: _containers.RepeatedScalarFieldContainer[float]
    peak_dbfs: float
    rms_dbfs: float
    spectral_centroid_hz: float
    def __init__(self, peak_dbfs: _Optional[float] = ..., rms_dbfs: _Optional[float] = ..., spectral_centroid_hz: _Optional[float] = ..., band_energy_db: _Optional[_Iterable[float]] = ...) -> None: ...

class Analyze(_message.Message):
    __slots__ = ["bands", "interval_ms"]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    bands: int
    interval_ms: float
    def __init__(self, bands: _Optional[int] = ..., interval_ms: _Optional[float] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ["data", "sequence"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    sequence: int
    def __init__(self, data: _Optional[bytes] = ..., sequence: _Optional[int] = ...) -> None: ...

class AudioFormat(_message.Message):
    __slots__ = ["channels", "encoding", "sample_rate_hz"]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    channels: int
    encoding: Encoding
    sample_rate_hz: int
    def __init__(self, encoding: _Optional[_Union[Encoding, str]] = ..., sample_rate_hz: _Optional[int] = ..., channels: _Optional[int] = ...) -> None: ...

class Bandpass(_message.Message):
    __slots__ = ["center_hz", "q"]
    CENTER_HZ_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    center_hz: float
    q: float
    def __init__(self, center_hz: _Optional[float] = ..., q: _Optional[float] = ...) -> None: ...

class ChainUpdate(_message.Message):
    __slots__ = ["updates"]
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    updates: _containers.RepeatedCompositeFieldContainer[ProcessorUpdate]
    def __init__(self, updates: _Optional[_Iterable[_Union[ProcessorUpdate, _Mapping]]] = ...) -> None: ...

class ChannelLevels(_message.Message):
    __slots__ = ["peak_dbfs", "rms_dbfs"]
    PEAK_DBFS_FIELD_NUMBER: _ClassVar[int]
    RMS_DBFS_FIELD_NUMBER: _ClassVar[int]
    peak_dbfs: float
    rms_dbfs: float
    def __init__(self, peak_dbfs: _Optional[float] = ..., rms_dbfs: _Optional[float] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ["sequence", "token"]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    token: bytes
    def __init__(self, token: _Optional[bytes] = ..., sequence: _Optional[int] = ...) -> None: ...

class ChunkMetrics(_message.Message):
    __slots__ = ["clipped_samples", "frames_in", "frames_out", "in_channel_levels", "in_peak_dbfs", "in_rms_dbfs", "nonfinite_samples", "out_channel_levels", "out_peak_dbfs", "out_rms_dbfs", "process_us", "queue_wait_us", "sequence"]
    CLIPPED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    FRAMES_IN_FIELD_NUMBER: _ClassVar[int]
    FRAMES_OUT_FIELD_NUMBER: _ClassVar[int]
    IN_CHANNEL_LEVELS_FIELD_NUMBER: _ClassVar[int]
    IN_PEAK_DBFS_FIELD_NUMBER: _ClassVar[int]
    IN_RMS_DBFS_FIELD_NUMBER: _ClassVar[int]
    NONFINITE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    OUT_CHANNEL_LEVELS_FIELD_NUMBER: _ClassVar[int]
    OUT_PEAK_DBFS_FIELD_NUMBER: _ClassVar[int]
    OUT_RMS_DBFS_FIELD_NUMBER: _ClassVar[int]
    PROCESS_US_FIELD_NUMBER: _ClassVar[int]
    QUEUE_WAIT_US_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    clipped_samples: int
    frames_in: int
    frames_out: int
    in_channel_levels: _containers.RepeatedCompositeFieldContainer[ChannelLevels]
    in_peak_dbfs: float
    in_rms_dbfs: float
    nonfinite_samples: int
    out_channel_levels: _containers.RepeatedCompositeFieldContainer[ChannelLevels]
    out_peak_dbfs: float
    out_rms_dbfs: float
    process_us: int
    queue_wait_us: int
    sequence: int
    def __init__(self, sequence: _Optional[int] = ..., frames_in: _Optional[int] = ..., frames_out: _Optional[int] = ..., queue_wait_us: _Optional[int] = ..., process_us: _Optional[int] = ..., in_peak_dbfs: _Optional[float] = ..., in_rms_dbfs: _Optional[float] = ..., out_peak_dbfs: _Optional[float] = ..., out_rms_dbfs: _Optional[float] = ..., clipped_samples: _Optional[int] = ..., nonfinite_samples: _Optional[int] = ..., in_channel_levels: _Optional[_Iterable[_Union[ChannelLevels, _Mapping]]] = ..., out_channel_levels: _Optional[_Iterable[_Union[ChannelLevels, _Mapping]]] = ...) -> None: ...

class Compressor(_message.Message):
    __slots__ = ["attack_ms", "knee_db", "makeup_db", "ratio", "release_ms", "threshold_db"]
    ATTACK_MS_FIELD_NUMBER: _ClassVar[int]
    KNEE_DB_FIELD_NUMBER: _ClassVar[int]
    MAKEUP_DB_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    RELEASE_MS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_DB_FIELD_NUMBER: _ClassVar[int]
    attack_ms: float
    knee_db: float
    makeup_db: float
    ratio: float
    release_ms: float
    threshold_db: float
    def __init__(self, threshold_db: _Optional[float] = ..., ratio: _Optional[float] = ..., knee_db: _Optional[float] = ..., attack_ms: _Optional[float] = ..., release_ms: _Optional[float] = ..., makeup_db: _Optional[float] = ...) -> None: ...

class Convolve(_message.Message):
    __slots__ = ["impulse", "impulse_file", "wet"]
    IMPULSE_FIELD_NUMBER: _ClassVar[int]
    IMPULSE_FILE_FIELD_NUMBER: _ClassVar[int]
    WET_FIELD_NUMBER: _ClassVar[int]
    impulse: _containers.RepeatedScalarFieldContainer[float]
    impulse_file: bytes
    wet: float
    def __init__(self, impulse: _Optional[_Iterable[float]] = ..., impulse_file: _Optional[bytes] = ..., wet: _Optional[float] = ...) -> None: ...

class DcBlock(_message.Message):
    __slots__ = ["cutoff_hz"]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    cutoff_hz: float
    def __init__(self, cutoff_hz: _Optional[float] = ...) -> None: ...

class Denoise(_message.Message):
    __slots__ = ["reduction_db"]
    REDUCTION_DB_FIELD_NUMBER: _ClassVar[int]
    reduction_db: float
    def __init__(self, reduction_db: _Optional[float] = ...) -> None: ...

class EchoDelay(_message.Message):
    __slots__ = ["delay_ms"]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    delay_ms: float
    def __init__(self, delay_ms: _Optional[float] = ...) -> None: ...

class Eq(_message.Message):
    __slots__ = ["bands"]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    bands: _containers.RepeatedCompositeFieldContainer[EqBand]
    def __init__(self, bands: _Optional[_Iterable[_Union[EqBand, _Mapping]]] = ...) -> None: ...

class EqBand(_message.Message):
    __slots__ = ["freq_hz", "gain_db", "q", "type"]
    FREQ_HZ_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    freq_hz: float
    gain_db: float
    q: float
    type: EqBandType
    def __init__(self, type: _Optional[_Union[EqBandType, str]] = ..., freq_hz: _Optional[float] = ..., q: _Optional[float] = ..., gain_db: _Optional[float] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["analysis", "echo_delay", "frame", "loudness", "processor_index", "speech_probability", "update", "voice"]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    ECHO_DELAY_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_FIELD_NUMBER: _ClassVar[int]
    PROCESSOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    SPEECH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    analysis: Analysis
    echo_delay: EchoDelay
    frame: int
    loudness: LoudnessReading
    processor_index: int
    speech_probability: SpeechProbability
    update: UpdateResult
    voice: VoiceActivity
    def __init__(self, frame: _Optional[int] = ..., processor_index: _Optional[int] = ..., voice: _Optional[_Union[VoiceActivity, _Mapping]] = ..., loudness: _Optional[_Union[LoudnessReading, _Mapping]] = ..., analysis: _Optional[_Union[Analysis, _Mapping]] = ..., update: _Optional[_Union[UpdateResult, _Mapping]] = ..., speech_probability: _Optional[_Union[SpeechProbability, _Mapping]] = ..., echo_delay: _Optional[_Union[EchoDelay, _Mapping]] = ...) -> None: ...

class FileFormat(_message.Message):
    __slots__ = ["channels", "container", "encoding", "sample_rate_hz"]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    channels: int
    container: Container
    encoding: Encoding
    sample_rate_hz: int
    def __init__(self, container: _Optional[_Union[Container, str]] = ..., encoding: _Optional[_Union[Encoding, str]] = ..., sample_rate_hz: _Optional[int] = ..., channels: _Optional[int] = ...) -> None: ...

class FormatCost(_message.Message):
    __slots__ = ["channels", "cost", "sample_rate_hz"]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    channels: int
    cost: ResourceCost
    sample_rate_hz: int
    def __init__(self, sample_rate_hz: _Optional[int] = ..., channels: _Optional[int] = ..., cost: _Optional[_Union[ResourceCost, _Mapping]] = ...) -> None: ...

class Gain(_message.Message):
    __slots__ = ["gain_db"]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    gain_db: float
    def __init__(self, gain_db: _Optional[float] = ...) -> None: ...

class Highpass(_message.Message):
    __slots__ = ["cutoff_hz", "order", "q"]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    cutoff_hz: float
    order: int
    q: float
    def __init__(self, cutoff_hz: _Optional[float] = ..., q: _Optional[float] = ..., order: _Optional[int] = ...) -> None: ...

class Highshelf(_message.Message):
    __slots__ = ["cutoff_hz", "gain_db", "q"]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    cutoff_hz: float
    gain_db: float
    q: float
    def __init__(self, cutoff_hz: _Optional[float] = ..., gain_db: _Optional[float] = ..., q: _Optional[float] = ...) -> None: ...

class Limiter(_message.Message):
    __slots__ = ["ceiling_db", "lookahead_ms", "release_ms", "true_peak"]
    CEILING_DB_FIELD_NUMBER: _ClassVar[int]
    LOOKAHEAD_MS_FIELD_NUMBER: _ClassVar[int]
    RELEASE_MS_FIELD_NUMBER: _ClassVar[int]
    TRUE_PEAK_FIELD_NUMBER: _ClassVar[int]
    ceiling_db: float
    lookahead_ms: float
    release_ms: float
    true_peak: bool
    def __init__(self, ceiling_db: _Optional[float] = ..., lookahead_ms: _Optional[float] = ..., release_ms: _Optional[float] = ..., true_peak: bool = ...) -> None: ...

class ListProcessorsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListProcessorsResponse(_message.Message):
    __slots__ = ["processors"]
    PROCESSORS_FIELD_NUMBER: _ClassVar[int]
    processors: _containers.RepeatedCompositeFieldContainer[ProcessorInfo]
    def __init__(self, processors: _Optional[_Iterable[_Union[ProcessorInfo, _Mapping]]] = ...) -> None: ...

class ListStreamsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListStreamsResponse(_message.Message):
    __slots__ = ["files_in_flight", "streams"]
    FILES_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    files_in_flight: int
    streams: _containers.RepeatedCompositeFieldContainer[StreamInfo]
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamInfo, _Mapping]]] = ..., files_in_flight: _Optional[int] = ...) -> None: ...

class Loudness(_message.Message):
    __slots__ = ["max_gain_db", "target_lufs"]
    MAX_GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    TARGET_LUFS_FIELD_NUMBER: _ClassVar[int]
    max_gain_db: float
    target_lufs: float
    def __init__(self, target_lufs: _Optional[float] = ..., max_gain_db: _Optional[float] = ...) -> None: ...

class LoudnessReading(_message.Message):
    __slots__ = ["gain_db", "integrated_lufs", "momentary_lufs", "short_term_lufs"]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_LUFS_FIELD_NUMBER: _ClassVar[int]
    MOMENTARY_LUFS_FIELD_NUMBER: _ClassVar[int]
    SHORT_TERM_LUFS_FIELD_NUMBER: _ClassVar[int]
    gain_db: float
    integrated_lufs: float
    momentary_lufs: float
    short_term_lufs: float
    def __init__(self, momentary_lufs: _Optional[float] = ..., short_term_lufs: _Optional[float] = ..., integrated_lufs: _Optional[float] = ..., gain_db: _Optional[float] = ...) -> None: ...

class Lowpass(_message.Message):
    __slots__ = ["cutoff_hz", "order", "q"]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    cutoff_hz: float
    order: int
    q: float
    def __init__(self, cutoff_hz: _Optional[float] = ..., q: _Optional[float] = ..., order: _Optional[int] = ...) -> None: ...

class Lowshelf(_message.Message):
    __slots__ = ["cutoff_hz", "gain_db", "q"]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    cutoff_hz: float
    gain_db: float
    q: float
    def __init__(self, cutoff_hz: _Optional[float] = ..., gain_db: _Optional[float] = ..., q: _Optional[float] = ...) -> None: ...

class MetricsOptions(_message.Message):
    __slots__ = ["omit_levels", "per_channel"]
    OMIT_LEVELS_FIELD_NUMBER: _ClassVar[int]
    PER_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    omit_levels: bool
    per_channel: bool
    def __init__(self, omit_levels: bool = ..., per_channel: bool = ...) -> None: ...

class Mix(_message.Message):
    __slots__ = ["matrix", "output_channels"]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    matrix: _containers.RepeatedScalarFieldContainer[float]
    output_channels: int
    def __init__(self, output_channels: _Optional[int] = ..., matrix: _Optional[_Iterable[float]] = ...) -> None: ...

class NoiseGate(_message.Message):
    __slots__ = ["attack_ms", "hold_ms", "range_db", "release_ms", "threshold_db"]
    ATTACK_MS_FIELD_NUMBER: _ClassVar[int]
    HOLD_MS_FIELD_NUMBER: _ClassVar[int]
    RANGE_DB_FIELD_NUMBER: _ClassVar[int]
    RELEASE_MS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_DB_FIELD_NUMBER: _ClassVar[int]
    attack_ms: float
    hold_ms: float
    range_db: float
    release_ms: float
    threshold_db: float
    def __init__(self, threshold_db: _Optional[float] = ..., range_db: _Optional[float] = ..., attack_ms: _Optional[float] = ..., hold_ms: _Optional[float] = ..., release_ms: _Optional[float] = ...) -> None: ...

class Notch(_message.Message):
    __slots__ = ["center_hz", "q"]
    CENTER_HZ_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    center_hz: float
    q: float
    def __init__(self, center_hz: _Optional[float] = ..., q: _Optional[float] = ...) -> None: ...

class ParameterInfo(_message.Message):
    __slots__ = ["allowed_values", "default_value", "max", "min", "name", "required", "runtime_updatable", "summary", "type", "unit"]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_UPDATABLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    allowed_values: _containers.RepeatedScalarFieldContainer[str]
    default_value: float
    max: float
    min: float
    name: str
    required: bool
    runtime_updatable: bool
    summary: str
    type: str
    unit: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., unit: _Optional[str] = ..., default_value: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., required: bool = ..., runtime_updatable: bool = ..., summary: _Optional[str] = ..., allowed_values: _Optional[_Iterable[str]] = ...) -> None: ...

class Peaking(_message.Message):
    __slots__ = ["center_hz", "gain_db", "q"]
    CENTER_HZ_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    center_hz: float
    gain_db: float
    q: float
    def __init__(self, center_hz: _Optional[float] = ..., q: _Optional[float] = ..., gain_db: _Optional[float] = ...) -> None: ...

class ProcessFileRequest(_message.Message):
    __slots__ = ["chain", "dither", "file", "output"]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    DITHER_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    chain: _containers.RepeatedCompositeFieldContainer[ProcessorSpec]
    dither: Dither
    file: bytes
    output: FileFormat
    def __init__(self, file: _Optional[bytes] = ..., chain: _Optional[_Iterable[_Union[ProcessorSpec, _Mapping]]] = ..., output: _Optional[_Union[FileFormat, _Mapping]] = ..., dither: _Optional[_Union[Dither, str]] = ...) -> None: ...

class ProcessFileResponse(_message.Message):
    __slots__ = ["file", "input", "summary"]
    FILE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    file: bytes
    input: FileFormat
    summary: StreamSummary
    def __init__(self, file: _Optional[bytes] = ..., summary: _Optional[_Union[StreamSummary, _Mapping]] = ..., input: _Optional[_Union[FileFormat, _Mapping]] = ...) -> None: ...

class ProcessRequest(_message.Message):
    __slots__ = ["chunk", "config", "resume", "update"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    chunk: AudioChunk
    config: StreamConfig
    resume: ResumeStream
    update: ChainUpdate
    def __init__(self, config: _Optional[_Union[StreamConfig, _Mapping]] = ..., chunk: _Optional[_Union[AudioChunk, _Mapping]] = ..., update: _Optional[_Union[ChainUpdate, _Mapping]] = ..., resume: _Optional[_Union[ResumeStream, _Mapping]] = ...) -> None: ...

class ProcessResponse(_message.Message):
    __slots__ = ["checkpoint", "chunk", "ready", "summary"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    checkpoint: Checkpoint
    chunk: ProcessedChunk
    ready: StreamReady
    summary: StreamSummary
    def __init__(self, ready: _Optional[_Union[StreamReady, _Mapping]] = ..., chunk: _Optional[_Union[ProcessedChunk, _Mapping]] = ..., summary: _Optional[_Union[StreamSummary, _Mapping]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class ProcessedChunk(_message.Message):
    __slots__ = ["data", "events", "metrics", "tail"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    events: _containers.RepeatedCompositeFieldContainer[Event]
    metrics: ChunkMetrics
    tail: bool
    def __init__(self, data: _Optional[bytes] = ..., metrics: _Optional[_Union[ChunkMetrics, _Mapping]] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., tail: bool = ...) -> None: ...

class ProcessorInfo(_message.Message):
    __slots__ = ["costs", "name", "parameters", "summary"]
    COSTS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    costs: _containers.RepeatedCompositeFieldContainer[FormatCost]
    name: str
    parameters: _containers.RepeatedCompositeFieldContainer[ParameterInfo]
    summary: str
    def __init__(self, name: _Optional[str] = ..., summary: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[ParameterInfo, _Mapping]]] = ..., costs: _Optional[_Iterable[_Union[FormatCost, _Mapping]]] = ...) -> None: ...

class ProcessorSpec(_message.Message):
    __slots__ = ["aec", "analyze", "bandpass", "compressor", "convolve", "dc_block", "denoise", "eq", "gain", "highpass", "highshelf", "limiter", "loudness", "lowpass", "lowshelf", "mix", "noise_gate", "notch", "peaking", "resample", "vad"]
    AEC_FIELD_NUMBER: _ClassVar[int]
    ANALYZE_FIELD_NUMBER: _ClassVar[int]
    BANDPASS_FIELD_NUMBER: _ClassVar[int]
    COMPRESSOR_FIELD_NUMBER: _ClassVar[int]
    CONVOLVE_FIELD_NUMBER: _ClassVar[int]
    DC_BLOCK_FIELD_NUMBER: _ClassVar[int]
    DENOISE_FIELD_NUMBER: _ClassVar[int]
    EQ_FIELD_NUMBER: _ClassVar[int]
    GAIN_FIELD_NUMBER: _ClassVar[int]
    HIGHPASS_FIELD_NUMBER: _ClassVar[int]
    HIGHSHELF_FIELD_NUMBER: _ClassVar[int]
    LIMITER_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_FIELD_NUMBER: _ClassVar[int]
    LOWPASS_FIELD_NUMBER: _ClassVar[int]
    LOWSHELF_FIELD_NUMBER: _ClassVar[int]
    MIX_FIELD_NUMBER: _ClassVar[int]
    NOISE_GATE_FIELD_NUMBER: _ClassVar[int]
    NOTCH_FIELD_NUMBER: _ClassVar[int]
    PEAKING_FIELD_NUMBER: _ClassVar[int]
    RESAMPLE_FIELD_NUMBER: _ClassVar[int]
    VAD_FIELD_NUMBER: _ClassVar[int]
    aec: Aec
    analyze: Analyze
    bandpass: Bandpass
    compressor: Compressor
    convolve: Convolve
    dc_block: DcBlock
    denoise: Denoise
    eq: Eq
    gain: Gain
    highpass: Highpass
    highshelf: Highshelf
    limiter: Limiter
    loudness: Loudness
    lowpass: Lowpass
    lowshelf: Lowshelf
    mix: Mix
    noise_gate: NoiseGate
    notch: Notch
    peaking: Peaking
    resample: Resample
    vad: Vad
    def __init__(self, gain: _Optional[_Union[Gain, _Mapping]] = ..., mix: _Optional[_Union[Mix, _Mapping]] = ..., highpass: _Optional[_Union[Highpass, _Mapping]] = ..., lowpass: _Optional[_Union[Lowpass, _Mapping]] = ..., bandpass: _Optional[_Union[Bandpass, _Mapping]] = ..., notch: _Optional[_Union[Notch, _Mapping]] = ..., peaking: _Optional[_Union[Peaking, _Mapping]] = ..., lowshelf: _Optional[_Union[Lowshelf, _Mapping]] = ..., highshelf: _Optional[_Union[Highshelf, _Mapping]] = ..., eq: _Optional[_Union[Eq, _Mapping]] = ..., dc_block: _Optional[_Union[DcBlock, _Mapping]] = ..., noise_gate: _Optional[_Union[NoiseGate, _Mapping]] = ..., compressor: _Optional[_Union[Compressor, _Mapping]] = ..., limiter: _Optional[_Union[Limiter, _Mapping]] = ..., loudness: _Optional[_Union[Loudness, _Mapping]] = ..., resample: _Optional[_Union[Resample, _Mapping]] = ..., denoise: _Optional[_Union[Denoise, _Mapping]] = ..., convolve: _Optional[_Union[Convolve, _Mapping]] = ..., vad: _Optional[_Union[Vad, _Mapping]] = ..., analyze: _Optional[_Union[Analyze, _Mapping]] = ..., aec: _Optional[_Union[Aec, _Mapping]] = ...) -> None: ...

class ProcessorTiming(_message.Message):
    __slots__ = ["name", "seconds"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    seconds: float
    def __init__(self, name: _Optional[str] = ..., seconds: _Optional[float] = ...) -> None: ...

class ProcessorUpdate(_message.Message):
    __slots__ = ["index", "spec"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    index: int
    spec: ProcessorSpec
    def __init__(self, index: _Optional[int] = ..., spec: _Optional[_Union[ProcessorSpec, _Mapping]] = ...) -> None: ...

class Resample(_message.Message):
    __slots__ = ["quality", "sample_rate_hz"]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    quality: ResampleQuality
    sample_rate_hz: int
    def __init__(self, sample_rate_hz: _Optional[int] = ..., quality: _Optional[_Union[ResampleQuality, str]] = ...) -> None: ...

class ResourceCost(_message.Message):
    __slots__ = ["cpu_cores", "memory_bytes"]
    CPU_CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    cpu_cores: float
    memory_bytes: int
    def __init__(self, cpu_cores: _Optional[float] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class ResumeStream(_message.Message):
    __slots__ = ["token"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: bytes
    def __init__(self, token: _Optional[bytes] = ...) -> None: ...

class SpeechProbability(_message.Message):
    __slots__ = ["active", "probability"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    active: bool
    probability: float
    def __init__(self, probability: _Optional[float] = ..., active: bool = ...) -> None: ...

class StreamChange(_message.Message):
    __slots__ = ["kind", "stream"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    kind: StreamChangeKind
    stream: StreamInfo
    def __init__(self, kind: _Optional[_Union[StreamChangeKind, str]] = ..., stream: _Optional[_Union[StreamInfo, _Mapping]] = ...) -> None: ...

class StreamConfig(_message.Message):
    __slots__ = ["chain", "checkpoint_interval_ms", "dither", "input", "max_chunk_bytes", "metrics", "output", "stream_id"]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    DITHER_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    chain: _containers.RepeatedCompositeFieldContainer[ProcessorSpec]
    checkpoint_interval_ms: int
    dither: Dither
    input: AudioFormat
    max_chunk_bytes: int
    metrics: MetricsOptions
    output: AudioFormat
    stream_id: str
    def __init__(self, input: _Optional[_Union[AudioFormat, _Mapping]] = ..., output: _Optional[_Union[AudioFormat, _Mapping]] = ..., chain: _Optional[_Iterable[_Union[ProcessorSpec, _Mapping]]] = ..., metrics: _Optional[_Union[MetricsOptions, _Mapping]] = ..., stream_id: _Optional[str] = ..., dither: _Optional[_Union[Dither, str]] = ..., max_chunk_bytes: _Optional[int] = ..., checkpoint_interval_ms: _Optional[int] = ...) -> None: ...

class StreamInfo(_message.Message):
    __slots__ = ["age_seconds", "audio_seconds", "buffered_bytes", "chain", "chunks", "cost", "input", "latency_p50_seconds", "latency_p99_seconds", "output", "peer", "serial", "stream_id"]
    AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    age_seconds: float
    audio_seconds: float
    buffered_bytes: int
    chain: str
    chunks: int
    cost: ResourceCost
    input: AudioFormat
    latency_p50_seconds: float
    latency_p99_seconds: float
    output: AudioFormat
    peer: str
    serial: int
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ..., peer: _Optional[str] = ..., chain: _Optional[str] = ..., input: _Optional[_Union[AudioFormat, _Mapping]] = ..., output: _Optional[_Union[AudioFormat, _Mapping]] = ..., age_seconds: _Optional[float] = ..., chunks: _Optional[int] = ..., audio_seconds: _Optional[float] = ..., latency_p50_seconds: _Optional[float] = ..., latency_p99_seconds: _Optional[float] = ..., cost: _Optional[_Union[ResourceCost, _Mapping]] = ..., buffered_bytes: _Optional[int] = ..., serial: _Optional[int] = ...) -> None: ...

class StreamReady(_message.Message):
    __slots__ = ["chain", "cost", "latency_frames", "max_chunk_bytes", "output", "processor_costs", "resumable", "resumed_after_sequence", "stream_id"]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FRAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PROCESSOR_COSTS_FIELD_NUMBER: _ClassVar[int]
    RESUMABLE_FIELD_NUMBER: _ClassVar[int]
    RESUMED_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    chain: _containers.RepeatedCompositeFieldContainer[ProcessorSpec]
    cost: ResourceCost
    latency_frames: int
    max_chunk_bytes: int
    output: AudioFormat
    processor_costs: _containers.RepeatedCompositeFieldContainer[ResourceCost]
    resumable: bool
    resumed_after_sequence: int
    stream_id: str
    def __init__(self, chain: _Optional[_Iterable[_Union[ProcessorSpec, _Mapping]]] = ..., output: _Optional[_Union[AudioFormat, _Mapping]] = ..., latency_frames: _Optional[int] = ..., stream_id: _Optional[str] = ..., max_chunk_bytes: _Optional[int] = ..., cost: _Optional[_Union[ResourceCost, _Mapping]] = ..., processor_costs: _Optional[_Iterable[_Union[ResourceCost, _Mapping]]] = ..., resumable: bool = ..., resumed_after_sequence: _Optional[int] = ...) -> None: ...

class StreamSummary(_message.Message):
    __slots__ = ["audio_seconds", "chunks", "clipped_samples", "discarded_bytes", "dropped_events", "frames_in", "frames_out", "integrated_lufs", "nonfinite_samples", "processors", "real_time_factor", "wall_seconds"]
    AUDIO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    CLIPPED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    DISCARDED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_IN_FIELD_NUMBER: _ClassVar[int]
    FRAMES_OUT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_LUFS_FIELD_NUMBER: _ClassVar[int]
    NONFINITE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    PROCESSORS_FIELD_NUMBER: _ClassVar[int]
    REAL_TIME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    audio_seconds: float
    chunks: int
    clipped_samples: int
    discarded_bytes: int
    dropped_events: int
    frames_in: int
    frames_out: int
    integrated_lufs: float
    nonfinite_samples: int
    processors: _containers.RepeatedCompositeFieldContainer[ProcessorTiming]
    real_time_factor: float
    wall_seconds: float
    def __init__(self, frames_in: _Optional[int] = ..., frames_out: _Optional[int] = ..., chunks: _Optional[int] = ..., audio_seconds: _Optional[float] = ..., wall_seconds: _Optional[float] = ..., real_time_factor: _Optional[float] = ..., processors: _Optional[_Iterable[_Union[ProcessorTiming, _Mapping]]] = ..., integrated_lufs: _Optional[float] = ..., clipped_samples: _Optional[int] = ..., nonfinite_samples: _Optional[int] = ..., dropped_events: _Optional[int] = ..., discarded_bytes: _Optional[int] = ...) -> None: ...

class UpdateResult(_message.Message):
    __slots__ = ["applied", "message"]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    message: str
    def __init__(self, applied: bool = ..., message: _Optional[str] = ...) -> None: ...

class Vad(_message.Message):
    __slots__ = ["hangover_ms", "mute", "report_interval_ms", "threshold"]
    HANGOVER_MS_FIELD_NUMBER: _ClassVar[int]
    MUTE_FIELD_NUMBER: _ClassVar[int]
    REPORT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    hangover_ms: float
    mute: bool
    report_interval_ms: float
    threshold: float
    def __init__(self, threshold: _Optional[float] = ..., hangover_ms: _Optional[float] = ..., mute: bool = ..., report_interval_ms: _Optional[float] = ...) -> None: ...

class ValidateConfigRequest(_message.Message):
    __slots__ = ["config"]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: StreamConfig
    def __init__(self, config: _Optional[_Union[StreamConfig, _Mapping]] = ...) -> None: ...

class ValidateConfigResponse(_message.Message):
    __slots__ = ["fits_now", "ready"]
    FITS_NOW_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    fits_now: bool
    ready: StreamReady
    def __init__(self, ready: _Optional[_Union[StreamReady, _Mapping]] = ..., fits_now: bool = ...) -> None: ...

class VoiceActivity(_message.Message):
    __slots__ = ["active", "probability"]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    active: bool
    probability: float
    def __init__(self, active: bool = ..., probability: _Optional[float] = ...) -> None: ...

class WatchStreamsRequest(_message.Message):
    __slots__ = ["interval_seconds"]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    interval_seconds: float
    def __init__(self, interval_seconds: _Optional[float] = ...) -> None: ...

class WatchStreamsResponse(_message.Message):
    __slots__ = ["active_streams", "changes"]
    ACTIVE_STREAMS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    active_streams: int
    changes: _containers.RepeatedCompositeFieldContainer[StreamChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[StreamChange, _Mapping]]] = ..., active_streams: _Optional[int] = ...) -> None: ...

class Encoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Dither(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Container(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class StreamChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class EqBandType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ResampleQuality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
