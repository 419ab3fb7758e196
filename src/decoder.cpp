#include "vidsift/decoder.h"

#include <cmath>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

namespace vidsift {

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

namespace {
constexpr int kMaxDimension = 16384;
constexpr std::int64_t kMaxConsecutiveErrors = 500;
}  // namespace

int Decoder::interrupt_cb(void* opaque) {
  auto* self = static_cast<Decoder*>(opaque);
  return (self->opts_.should_stop && self->opts_.should_stop()) ? 1 : 0;
}

Decoder::Decoder(const std::string& path, const DecoderOptions& opts)
    : path_(path), opts_(opts), sampler_(opts.sampling) {
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->interrupt_callback.callback = &Decoder::interrupt_cb;
  raw->interrupt_callback.opaque = this;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) throw DecodeError("cannot open video: " + av_error_text(err));
  fmt_.reset(raw);
  err = avformat_find_stream_info(fmt_.get(), nullptr);
  if (err < 0) throw DecodeError("cannot read stream information: " + av_error_text(err));

  const AVCodec* codec = nullptr;
  stream_index_ = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_index_ == AVERROR_STREAM_NOT_FOUND) {
    throw DecodeError("no video stream in file (audio-only or not a video)");
  }
  AVStream* st = fmt_->streams[stream_index_ < 0 ? 0 : stream_index_];
  if (stream_index_ == AVERROR_DECODER_NOT_FOUND || codec == nullptr) {
    const AVCodecDescriptor* d = avcodec_descriptor_get(st->codecpar->codec_id);
    throw DecodeError(std::string("no decoder for codec '") + (d ? d->name : "unknown") +
                      "' in this FFmpeg build");
  }
  if (stream_index_ < 0) throw DecodeError("cannot select a video stream: " + av_error_text(stream_index_));
  st = fmt_->streams[stream_index_];
  // Only the chosen stream is demuxed into packets we look at.
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;

  const int w = st->codecpar->width;
  const int h = st->codecpar->height;
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
  frame_rate_ = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  start_pts_ = st->start_time;

  info_.codec = codec->name;
  info_.width = w;
  info_.height = h;
  info_.fps = frame_rate_.num > 0 && frame_rate_.den > 0 ? av_q2d(frame_rate_) : 0.0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    info_.duration = static_cast<double>(st->duration) * av_q2d(time_base_);
  } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    info_.duration = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  info_.frame_count_estimate = st->nb_frames > 0 ? st->nb_frames
                               : static_cast<std::int64_t>(std::llround(info_.duration * info_.fps));

  index_from_pts_ = opts_.sampling.keyframes;
  if (opts_.sampling.start > 0) {
    const double start_base = start_pts_ != AV_NOPTS_VALUE ? static_cast<double>(start_pts_) : 0.0;
    const auto target = static_cast<std::int64_t>(start_base + opts_.sampling.start / av_q2d(time_base_));
    if (av_seek_frame(fmt_.get(), stream_index_, target, AVSEEK_FLAG_BACKWARD) >= 0) {
      avcodec_flush_buffers(codec_.get());
      index_from_pts_ = true;
    }
  }
  if (index_from_pts_ && info_.fps <= 0) {
    // Without a frame rate the index cannot be derived; decode from the start.
    index_from_pts_ = false;
  }

  packet_.reset(av_packet_alloc());
  scratch_ = make_frame();
  if (!packet_) throw std::bad_alloc();
}

Decoder::~Decoder() = default;

bool Decoder::feed() {
  for (;;) {
    if (opts_.should_stop && opts_.should_stop()) {
      cancelled_ = true;
      return false;
    }
    int err = av_read_frame(fmt_.get(), packet_.get());
    if (err == AVERROR_EOF) return false;
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
    if (opts_.sampling.keyframes && !(packet_->flags & AV_PKT_FLAG_KEY)) {
      av_packet_unref(packet_.get());  // never decode what is dropped
      continue;
    }
    err = avcodec_send_packet(codec_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (err < 0 && err != AVERROR(EAGAIN)) {
      ++decode_errors_;
      last_error_ = "corrupt packet skipped: " + av_error_text(err);
      if (decode_errors_ > kMaxConsecutiveErrors && frames_decoded_ == 0) {
        truncated_ = true;
        last_error_ = "too many undecodable packets: " + av_error_text(err);
        return false;
      }
      continue;
    }
    return true;
  }
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
      ++decode_errors_;
      last_error_ = "decode error: " + av_error_text(err);
      return false;
    }
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
      index = static_cast<std::int64_t>(std::llround(ts * info_.fps));
    } else {
      index = next_index_;
    }
    ++next_index_;
    last_ts_ = ts;
    if (sampler_.done(ts)) {
      finished_ = true;
      av_frame_unref(scratch_.get());
      return false;
    }
    if (!sampler_.take(index, ts)) {
      av_frame_unref(scratch_.get());  // never converted or copied
      continue;
    }
    if (!out.frame) out.frame = make_frame();
    av_frame_unref(out.frame.get());
    av_frame_move_ref(out.frame.get(), scratch_.get());
    out.index = index;
    out.timestamp = ts;
    return true;
  }
}

bool Decoder::next(DecodedFrame& out) {
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
  return false;
}

}  // namespace vidsift
