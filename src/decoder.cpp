#include "vidsift/decoder.h"

#include <sys/stat.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <compare>
#include <cstring>
#include <fstream>
#include <vector>

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

#include "vidsift/discover.h"

namespace vidsift {

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

namespace {
constexpr int kMaxDimension = 16384;
constexpr std::int64_t kMaxConsecutiveErrors = 500;
constexpr int kMaxSeekAttempts = 8;  // seek back 1, 2, 4 ... 64 s, then from the beginning
// After a seek, a key frame is expected within this many seconds past
// --start; a stream without one (no key flags, e.g. H.264 intra refresh) is
// decoded from the beginning instead.
constexpr double kMaxKeyFrameWait = 60.0;
// Resume: how far (in frames) a counted index may differ from the one the
// timestamp gives for the decoder to still seek (see the resume rule).
constexpr std::int64_t kMaxResumeIndexOffset = 2;
// MPEG-TS/PS: a decode timestamp more than this far behind the previous
// packet's is a discontinuity (see fix_discontinuity).
constexpr double kDiscontinuityTolerance = 0.5;

// Demuxers that read other files or the network by design (playlists,
// concat scripts, manifests, session descriptions, scripts): an archive
// tool analyses the file it was given, nothing it points to.
constexpr std::array<const char*, 10> kRefusedDemuxers = {"hls", "concat", "dash", "imf",      "webm_dash_manifest",
                                                          "sdp", "rtp",    "rtsp", "avisynth", "vapoursynth"};

bool refused_demuxer(const char* name) {
  if (!name) return false;
  for (const char* r : kRefusedDemuxers)
    if (std::strcmp(name, r) == 0) return true;
  return false;
}

// Every demuxer of this FFmpeg but the refused ones, for format_whitelist.
const std::string& allowed_demuxers() {
  static const std::string list = [] {
    std::string l;
    void* it = nullptr;
    while (const AVInputFormat* f = av_demuxer_iterate(&it)) {
      // A demuxer may have several comma-separated names; none is refused.
      if (refused_demuxer(f->name)) continue;
      if (!l.empty()) l += ',';
      l += f->name;
    }
    return l;
  }();
  return list;
}

// After a refused open: which demuxer would the file have used? Only to
// word the error; reads the first 4 KiB.
const AVInputFormat* probe_format(const std::string& path) {
  std::vector<unsigned char> buf(4096 + AVPROBE_PADDING_SIZE, 0);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(buf.data()), 4096);
  AVProbeData pd{};
  pd.filename = path.c_str();
  pd.buf = buf.data();
  pd.buf_size = static_cast<int>(in.gcount());
  return av_probe_input_format(&pd, 1);
}

// What the file's first bytes say it is, when that is a playlist, concat
// script, manifest or session description (text that makes libavformat read
// other files or URLs); nullptr otherwise. By content, not by FFmpeg's probe:
// FFmpeg 7.1's hls probe ignores a playlist whose name does not end in
// .m3u8, so it fails as "Invalid data" instead of being named.
const char* script_kind(const std::string& path) {
  std::string head(4096, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t i = head.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // UTF-8 byte order mark
  while (i < head.size() && std::strchr(" \t\r\n", head[i]) && head[i] != '\0') ++i;
  const auto starts = [&](const char* s) { return head.compare(i, std::strlen(s), s) == 0; };
  if (starts("#EXTM3U")) return "M3U/HLS playlist";
  if (starts("ffconcat version")) return "ffconcat script";
  if (starts("v=0\n") || starts("v=0\r\n")) return "SDP session description";
  if (starts("<")) {
    if (head.find("<MPD") != std::string::npos) return "DASH manifest";
    if (head.find("CompositionPlaylist") != std::string::npos) return "IMF composition playlist";
  }
  return nullptr;
}

struct DictGuard {
  AVDictionary* d = nullptr;
  ~DictGuard() { av_dict_free(&d); }
};

// The stream's display matrix (AV_PKT_DATA_DISPLAYMATRIX), or nullptr.
const std::int32_t* display_matrix(const AVStream* st) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
  const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                                       AV_PKT_DATA_DISPLAYMATRIX);
  if (!sd || sd->size < 9 * sizeof(std::int32_t)) return nullptr;
  return reinterpret_cast<const std::int32_t*>(sd->data);
#else
  std::size_t size = 0;
  const std::uint8_t* data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!data || size < 9 * sizeof(std::int32_t)) return nullptr;
  return reinterpret_cast<const std::int32_t*>(data);
#endif
}

bool is_key_frame(const AVFrame* f) {
#ifdef AV_FRAME_FLAG_KEY
  return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
  return f->key_frame != 0;
#endif
}
}  // namespace

int Decoder::interrupt_cb(void* opaque) {
  auto* self = static_cast<Decoder*>(opaque);
  return (self->opts_.should_stop && self->opts_.should_stop()) ? 1 : 0;
}

int Decoder::io_open_cb(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* self = static_cast<Decoder*>(s->opaque);
  if (self->default_io_open_ && url && self->url_ == url) return self->default_io_open_(s, pb, url, flags, options);
  if (self->foreign_url_.empty()) self->foreign_url_ = url ? url : "?";
  return AVERROR(EPERM);
}

void Decoder::open_input() {
  // Only regular files: a FIFO would block open() until someone writes, a
  // device never ends. (A file that is gone is left to FFmpeg's own error.)
  struct stat sb {};
  if (::stat(path_.c_str(), &sb) == 0 && !S_ISREG(sb.st_mode))
    throw DecodeError("cannot open video: " + irregular_file_reason(sb.st_mode));
  if (const char* kind = script_kind(path_))
    throw DecodeError(std::string("refused: this is a playlist, concat script or manifest (") + kind +
                      "); vidsift analyses only the file it is given, never the files or URLs it points to");
  // "file:" so that a relative name with a colon is never read as a protocol.
  url_ = !path_.empty() && path_[0] == '/' ? path_ : "file:" + path_;
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->interrupt_callback.callback = &Decoder::interrupt_cb;
  raw->interrupt_callback.opaque = this;
  // The file itself, nothing else: every other open (playlist segments,
  // concat entries, image sequences, manifests) is refused.
  raw->opaque = this;
  default_io_open_ = raw->io_open;
  raw->io_open = &Decoder::io_open_cb;
  DictGuard dict;
  av_dict_set(&dict.d, "protocol_whitelist", "file", 0);
  av_dict_set(&dict.d, "format_whitelist", allowed_demuxers().c_str(), 0);
  const int err = avformat_open_input(&raw, url_.c_str(), nullptr, &dict.d);
  if (err >= 0) fmt_.reset(raw);
  const AVInputFormat* f = fmt_ ? fmt_->iformat : (err == AVERROR(EINVAL) ? probe_format(path_) : nullptr);
  if (f && refused_demuxer(f->name))
    throw DecodeError(std::string("refused: this is a playlist, concat script or manifest (") +
                      (f->long_name ? f->long_name : f->name) + ", demuxer " + f->name +
                      "); vidsift analyses only the file it is given, never the files or URLs it points to");
  if (!foreign_url_.empty())
    throw DecodeError("refused: this file refers to another file or URL ('" + foreign_url_ +
                      "', e.g. a playlist or concat script); vidsift analyses only the file it is given");
  if (err < 0) throw DecodeError("cannot open video: " + av_error_text(err));
}

Decoder::Decoder(const std::string& path, const DecoderOptions& opts)
    : path_(path), opts_(opts), sampler_(opts.sampling) {
  open_input();
  int err = avformat_find_stream_info(fmt_.get(), nullptr);
  if (err < 0) throw DecodeError("cannot read stream information: " + av_error_text(err));
  if (const char* fmt_name = fmt_->iformat ? fmt_->iformat->name : nullptr) {
    const std::string f = fmt_name;
    // Single pictures (png_pipe, jpeg_pipe, ...) open as one-frame "videos".
    if (f == "image2" || (f.size() > 5 && f.compare(f.size() - 5, 5, "_pipe") == 0))
      throw DecodeError("this is a still image (" + f + "), not a video");
  }

  const AVCodec* codec = nullptr;
  select_stream(codec);
  AVStream* st = fmt_->streams[stream_index_];
  // Only the chosen stream is demuxed into packets we look at.
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;

  const int w = st->codecpar->width;
  const int h = st->codecpar->height;
  if (w == 0 || h == 0) {
    // The probe found no picture it could decode: H.264/HEVC without
    // SPS/PPS, or a stream cut before its first key frame.
    throw DecodeError(
        "no decodable key frame / missing parameter sets: the frame size is unknown (a stream without SPS/PPS, or "
        "one that starts mid-GOP)");
  }
  if (w <= 0 || h <= 0 || w > kMaxDimension || h > kMaxDimension) {
    throw DecodeError("unsupported frame size " + std::to_string(w) + "x" + std::to_string(h) +
                      " (vidsift accepts 1.." + std::to_string(kMaxDimension) + " pixels per side)");
  }

  codec_.reset(avcodec_alloc_context3(codec));
  if (!codec_) throw std::bad_alloc();
  err = avcodec_parameters_to_context(codec_.get(), st->codecpar);
  if (err < 0) throw DecodeError("cannot configure decoder: " + av_error_text(err));
  codec_->thread_count = opts_.threads;
  if (opts_.sampling.keyframes) {
    codec_->skip_frame = AVDISCARD_NONKEY;
    codec_->thread_type = FF_THREAD_SLICE;  // frame threading only adds latency here
  }
  codec_->pkt_timebase = st->time_base;
  err = avcodec_open2(codec_.get(), codec, nullptr);
  if (err < 0) throw DecodeError(std::string("cannot open decoder ") + codec->name + ": " + av_error_text(err));

  time_base_ = st->time_base;
  ts_discont_ = (fmt_->iformat->flags & AVFMT_TS_DISCONT) != 0;
  frame_rate_ = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  start_pts_ = st->start_time;

  info_.codec = codec->name;
  info_.stream_index = stream_index_;
  info_.orientation = Orientation::from_display_matrix(display_matrix(st));
  info_.width = info_.orientation.upright_width(w, h);
  info_.height = info_.orientation.upright_height(w, h);
  info_.fps = frame_rate_.num > 0 && frame_rate_.den > 0 ? av_q2d(frame_rate_) : 0.0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    info_.duration = static_cast<double>(st->duration) * av_q2d(time_base_);
  } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    info_.duration = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  info_.frame_count_estimate =
      st->nb_frames > 0 ? st->nb_frames : static_cast<std::int64_t>(std::llround(info_.duration * info_.fps));
  for (const AVDictionary* meta :
       {static_cast<const AVDictionary*>(fmt_->metadata), static_cast<const AVDictionary*>(st->metadata)}) {
    const AVDictionaryEntry* e = av_dict_get(meta, "creation_time", nullptr, 0);
    if (e && e->value && *e->value) {
      info_.creation_time = e->value;
      break;
    }
  }

  // Skipping non-reference frames needs timestamps for the indices (and is
  // pointless for key-frame-only decoding, where nothing else is decoded).
  // Only for containers that store real presentation timestamps per packet
  // (AVI and raw streams carry decode-order times, which would misjudge
  // B-frames).
  const std::string container = fmt_->iformat && fmt_->iformat->name ? fmt_->iformat->name : "";
  const bool packet_pts_reliable = container.find("mp4") != std::string::npos ||
                                   container.find("matroska") != std::string::npos || container == "mpegts";
  const bool can_skip_nonref =
      opts_.skip_unsampled_nonref && packet_pts_reliable && !opts_.sampling.keyframes && info_.fps > 0;
  // A seek needs the stream origin (for timestamps) and the frame rate (for
  // indices); without them, decode from the start and count.
  const bool seekable = start_pts_ != AV_NOPTS_VALUE && info_.fps > 0;
  seek_target_ = opts_.sampling.start;
  if (const auto& r = opts_.resume_after; r && r->index >= 0) {
    sampler_.resume_after(r->index, r->ts);
    // Would a run from the start derive this frame's index from its
    // timestamp too? Then a seek gives the same indices.
    const bool from_start_by_pts = opts_.sampling.keyframes || (opts_.sampling.start > 0 && seekable) ||
                                   (can_skip_nonref && (opts_.sampling.fps > 0 || opts_.sampling.start > 0));
    // Otherwise the run from the start counts frames: after the seek, the
    // index is derived from the timestamp plus the offset seen at the resume
    // frame (B-frame delay puts an AVI's first frame one tick late). A larger
    // offset means a variable frame rate: no seek then.
    const std::int64_t offset = from_start_by_pts ? 0 : r->index - std::llround(r->ts * info_.fps);
    if (seekable && r->ts > seek_target_ && offset >= -kMaxResumeIndexOffset && offset <= kMaxResumeIndexOffset) {
      seek_target_ = r->ts;
      resumed_by_seek_ = true;
      index_offset_ = offset;
    }
  }
  index_from_pts_ = opts_.sampling.keyframes;
  if (seek_target_ > 0 && seekable && seek_to(seek_target_, true)) {
    index_from_pts_ = true;
  } else {
    resumed_by_seek_ = false;
    index_offset_ = 0;
  }
  skip_nonref_ = can_skip_nonref && (opts_.sampling.fps > 0 || opts_.sampling.start > 0 || resumed_by_seek_);
  if (skip_nonref_) index_from_pts_ = true;
  if (index_from_pts_ && info_.fps <= 0) {
    // Without a frame rate the index cannot be derived; count instead.
    index_from_pts_ = false;
  }

  packet_.reset(av_packet_alloc());
  scratch_ = make_frame();
  if (!packet_) throw std::bad_alloc();
}

Decoder::~Decoder() = default;

void Decoder::select_stream(const AVCodec*& codec) {
  // Rank: decodable, more than one frame, largest picture, default
  // disposition, first. Attached pictures (cover art) are not candidates.
  struct Rank {
    bool decodable = false;
    bool moving = false;
    std::int64_t area = 0;
    bool is_default = false;
    auto operator<=>(const Rank&) const = default;
  };
  int best = -1;
  Rank best_rank;
  bool cover_art = false;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* s = fmt_->streams[i];
    if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    if (s->disposition & AV_DISPOSITION_ATTACHED_PIC) {
      cover_art = true;
      continue;
    }
    Rank r;
    r.decodable = avcodec_find_decoder(s->codecpar->codec_id) != nullptr;
    r.moving = s->nb_frames != 1;
    r.area = static_cast<std::int64_t>(std::max(s->codecpar->width, 0)) * std::max(s->codecpar->height, 0);
    r.is_default = (s->disposition & AV_DISPOSITION_DEFAULT) != 0;
    if (best < 0 || r > best_rank) {  // strictly better: ties keep the first
      best = static_cast<int>(i);
      best_rank = r;
    }
  }
  if (best < 0) {
    throw DecodeError(cover_art ? "no video stream in file (audio with a cover picture only)"
                                : "no video stream in file (audio-only or not a video)");
  }
  const AVStream* st = fmt_->streams[best];
  codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) {
    const AVCodecDescriptor* d = avcodec_descriptor_get(st->codecpar->codec_id);
    throw DecodeError(std::string("no decoder for codec '") + (d ? d->name : "unknown") + "' in this FFmpeg build");
  }
  stream_index_ = best;
}

bool Decoder::seek_to(double seconds, bool verify) {
  int err;
  if (seconds <= 0) {
    // Back to the first packet. MPEG-TS/PS (AVFMT_TS_DISCONT) seek by DTS,
    // and with B-frames the first key frame's DTS lies before the stream's
    // first PTS: a timestamp seek to the start lands after that key frame
    // (and the decoder then waits for the next one). Seek those by byte, as
    // ffplay does.
    const bool by_byte = (fmt_->iformat->flags & AVFMT_TS_DISCONT) && !(fmt_->iformat->flags & AVFMT_NO_BYTE_SEEK) &&
                         std::strcmp(fmt_->iformat->name, "ogg") != 0;
    err = by_byte ? av_seek_frame(fmt_.get(), -1, 0, AVSEEK_FLAG_BYTE) : -1;
    if (err < 0) err = av_seek_frame(fmt_.get(), stream_index_, start_pts_, AVSEEK_FLAG_BACKWARD);
    if (err < 0) err = av_seek_frame(fmt_.get(), -1, 0, AVSEEK_FLAG_BYTE);
  } else {
    // Clamped: a huge --start must not overflow the conversion.
    const double target = std::min(static_cast<double>(start_pts_) + seconds / av_q2d(time_base_), 4.0e18);
    err = av_seek_frame(fmt_.get(), stream_index_, static_cast<std::int64_t>(target), AVSEEK_FLAG_BACKWARD);
  }
  if (err < 0) return false;
  avcodec_flush_buffers(codec_.get());
  if (packet_pending_) {  // a packet from before the seek: stale now
    av_packet_unref(packet_.get());
    packet_pending_ = false;
  }
  last_index_ = -1;                  // indices restart from the timestamps after a seek
  last_packet_ts_ = AV_NOPTS_VALUE;  // discontinuities are tracked from here
  ts_offset_ = prev_offset_ = 0;
  last_taken_ts_ = -1.0;
  seek_verify_ = verify;
  eof_sent_ = false;
  finished_ = false;
  last_ts_ = -1.0;
  return true;
}

bool Decoder::retry_seek(double key_ts) {
  const double start = seek_target_;
  if (key_ts <= start + 0.5 / info_.fps) return false;  // landed at or before start
  if (seek_attempts_ >= kMaxSeekAttempts) return false;
  ++seek_attempts_;
  const double back = std::ldexp(1.0, seek_attempts_ - 1);
  if (seek_attempts_ < kMaxSeekAttempts && start - back > 0 && seek_to(start - back, true)) return true;
  // Last resort: decode from the beginning, keeping every frame.
  seek_attempts_ = kMaxSeekAttempts;
  return seek_to(0.0, false);
}

void Decoder::check_cut_short() {
  // End of file before the last packet the index lists: the file was cut
  // (demuxers report that as a plain end of file).
  AVStream* st = fmt_->streams[stream_index_];
  const int n = avformat_index_get_entries_count(st);
  const std::int64_t size = fmt_->pb ? avio_size(fmt_->pb) : -1;
  if (size > 0 && fmt_->iformat && std::string(fmt_->iformat->name) == "mpegts" && size % 188 != 0 && size % 192 != 0 &&
      size % 204 != 0) {
    truncated_ = true;
    last_error_ =
        "file ends early: the MPEG-TS stream stops in the middle of a packet (" + std::to_string(size) + " bytes)";
    return;
  }
  if (n <= 0 || size <= 0) return;
  const AVIndexEntry* e = avformat_index_get_entry(st, n - 1);
  if (e && e->pos >= 0 && e->pos + e->size > size) {
    truncated_ = true;
    last_error_ = "file ends early (cut or incomplete copy): " + std::to_string(size) +
                  " bytes, the index lists data up to byte " + std::to_string(e->pos + e->size);
  }
}

bool Decoder::feed() {
  if (packet_pending_) return send_pending();
  for (;;) {
    if (opts_.should_stop && opts_.should_stop()) {
      cancelled_ = true;
      return false;
    }
    int err = av_read_frame(fmt_.get(), packet_.get());
    if (err == AVERROR_EOF) {
      check_cut_short();
      return false;
    }
    if (err < 0) {
      if (err == AVERROR_EXIT) {
        cancelled_ = true;
        return false;
      }
      truncated_ = true;
      last_error_ = "read error after " + std::to_string(frames_decoded_) + " frames: " + av_error_text(err);
      return false;
    }
    if (packet_->stream_index != stream_index_) {
      av_packet_unref(packet_.get());
      continue;
    }
    ++packets_read_;
    if (ts_discont_) fix_discontinuity();
    if (opts_.sampling.keyframes && !(packet_->flags & AV_PKT_FLAG_KEY)) {
      av_packet_unref(packet_.get());  // never decode what is dropped
      continue;
    }
    // Only key packets are sent: the decoder's best-effort guess for a frame
    // without PTS would use the DTS of the next key packet (a GOP late).
    if (opts_.sampling.keyframes && packet_->pts == AV_NOPTS_VALUE) packet_->pts = packet_->dts;
    if (skip_nonref_) {
      // Decided per packet: a frame the sampler will take (or one whose time
      // is unknown) is decoded whatever its kind.
      bool wanted = true;
      if (packet_->pts != AV_NOPTS_VALUE && start_pts_ != AV_NOPTS_VALUE && !seek_verify_) {
        const double ts = static_cast<double>(packet_->pts - start_pts_) * av_q2d(time_base_);
        wanted = sampler_.may_take(ts);
      }
      codec_->skip_frame = wanted ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
    }
    packet_pending_ = true;
    return send_pending();
  }
}

void Decoder::fix_discontinuity() {
  AVPacket& p = *packet_;
  const std::int64_t t = p.dts != AV_NOPTS_VALUE ? p.dts : p.pts;
  if (t == AV_NOPTS_VALUE) return;
  if (last_packet_ts_ != AV_NOPTS_VALUE) {
    // Decode timestamps only grow, by about one frame per packet.
    const double tb = av_q2d(time_base_);
    const auto tol = static_cast<std::int64_t>(kDiscontinuityTolerance / tb);
    const std::int64_t step =
        p.duration > 0 ? p.duration
                       : (info_.fps > 0 ? static_cast<std::int64_t>(std::llround(1.0 / (info_.fps * tb))) : 0);
    const std::int64_t predicted = last_packet_ts_ + step;
    const std::int64_t delta = t + ts_offset_ - predicted;
    if (delta < -tol) {
      // A jump back (recordings joined byte by byte, a clock reset, or one
      // packet with a wrong time): continue the timeline from here.
      prev_offset_ = ts_offset_;
      ts_offset_ -= delta;
      ++discontinuities_;
    } else if (delta > tol && ts_offset_ != prev_offset_ && std::llabs(t + prev_offset_ - predicted) <= tol) {
      // Back on the timeline of before the last jump: that jump was one bad
      // packet, not a join.
      ts_offset_ = prev_offset_;
    }
  }
  if (ts_offset_ != 0) {
    if (p.dts != AV_NOPTS_VALUE) p.dts += ts_offset_;
    if (p.pts != AV_NOPTS_VALUE) p.pts += ts_offset_;
  }
  last_packet_ts_ = t + ts_offset_;
}

bool Decoder::send_pending() {
  const int err = avcodec_send_packet(codec_.get(), packet_.get());
  if (err == AVERROR(EAGAIN)) {
    // The decoder's input is full: it holds frames we have not received.
    // The packet stays pending and is sent again after receive() drained
    // them (next() calls receive() before feed()).
    return true;
  }
  packet_pending_ = false;
  av_packet_unref(packet_.get());
  if (err < 0) return !count_error("corrupt packet skipped: ", err);
  return true;
}

bool Decoder::count_error(const char* what, int err) {
  ++decode_errors_;
  ++consecutive_errors_;
  last_error_ = what + av_error_text(err);
  if (consecutive_errors_ < kMaxConsecutiveErrors) return false;
  truncated_ = true;
  last_error_ =
      "gave up after " + std::to_string(consecutive_errors_) + " undecodable packets in a row: " + av_error_text(err);
  return true;
}

void Decoder::note_backward_drop(double ts) {
  // Time went backwards after frames were analysed, and the sampler threw
  // this frame away for it: the video is not complete (never `done`).
  ++backward_drops_;
  truncated_ = true;
  last_error_ = "timestamps went backwards (to " + std::to_string(ts) + " s after " + std::to_string(last_taken_ts_) +
                " s): " + std::to_string(backward_drops_) + " frame(s) were not analysed";
}

bool Decoder::receive(DecodedFrame& out) {
  for (;;) {
    int err = avcodec_receive_frame(codec_.get(), scratch_.get());
    if (err == AVERROR(EAGAIN)) return false;
    if (err == AVERROR_EOF) {
      finished_ = true;
      return false;
    }
    if (err < 0) {
      if (count_error("decode error: ", err)) finished_ = true;
      return false;
    }
    consecutive_errors_ = 0;
    ++frames_decoded_;
    std::int64_t pts = scratch_->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = scratch_->pts;
    double ts;
    if (pts == AV_NOPTS_VALUE) {
      ts = last_ts_ < 0 ? 0.0 : last_ts_ + (info_.fps > 0 ? 1.0 / info_.fps : 0.0);
    } else {
      if (start_pts_ == AV_NOPTS_VALUE) start_pts_ = pts;
      ts = static_cast<double>(pts - start_pts_) * av_q2d(time_base_);
    }
    std::int64_t index;
    if (index_from_pts_) {
      index = static_cast<std::int64_t>(std::llround(ts * info_.fps)) + index_offset_;
      // Garbage or repeated timestamps must not give two frames one index.
      if (index <= last_index_) index = last_index_ + 1;
    } else {
      index = next_index_;
    }
    ++next_index_;
    last_index_ = index;
    last_ts_ = ts;
    if (seek_verify_) {
      if (!is_key_frame(scratch_.get())) {
        av_frame_unref(scratch_.get());  // references before the seek point are missing
        if (ts > seek_target_ + kMaxKeyFrameWait || sampler_.done(ts)) {
          seek_verify_ = false;
          seek_attempts_ = kMaxSeekAttempts;
          seek_to(0.0, false);  // on failure: keep going from here
        }
        continue;
      }
      seek_verify_ = false;
      if (retry_seek(ts)) {  // overshot: the decoder was flushed, read again
        av_frame_unref(scratch_.get());
        continue;
      }
    }
    if (sampler_.done(ts)) {
      finished_ = true;
      av_frame_unref(scratch_.get());
      return false;
    }
    if (!sampler_.take(index, ts)) {
      av_frame_unref(scratch_.get());  // never converted or copied
      if (last_taken_ts_ >= 0 && ts < last_taken_ts_) note_backward_drop(ts);
      continue;
    }
    last_taken_ts_ = std::max(last_taken_ts_, ts);
    if (!out.frame) out.frame = make_frame();
    av_frame_unref(out.frame.get());
    av_frame_move_ref(out.frame.get(), scratch_.get());
    out.index = index;
    out.timestamp = ts;
    return true;
  }
}

bool Decoder::next(DecodedFrame& out) {
  if (!finished_ && opts_.should_stop && opts_.should_stop()) {
    cancelled_ = true;
    finished_ = true;
  }
  for (;;) {
    while (!finished_) {
      if (receive(out)) return true;
      if (finished_) break;
      if (eof_sent_) {
        finished_ = true;
        break;
      }
      if (!feed()) {
        if (cancelled_) {
          finished_ = true;
          break;
        }
        avcodec_send_packet(codec_.get(), nullptr);  // drain
        eof_sent_ = true;
      }
    }
    // No key frame at all after a seek (a stream without key flags): decode
    // from the beginning instead.
    if (seek_verify_ && !cancelled_ && !truncated_) {
      seek_verify_ = false;
      seek_attempts_ = kMaxSeekAttempts;
      if (seek_to(0.0, false)) continue;
    }
    return false;
  }
}

}  // namespace vidsift
