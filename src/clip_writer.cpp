#include "vidsift/clip_writer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

#include "vidsift/decoder.h"  // av_error_text

namespace vidsift {

namespace {

struct DictGuard {
  AVDictionary* d = nullptr;
  ~DictGuard() { av_dict_free(&d); }
};

bool supports_yuv420p(const AVCodec* c) {
  if (!c->pix_fmts) return true;  // unknown: let avcodec_open2 decide
  for (const AVPixelFormat* p = c->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == AV_PIX_FMT_YUV420P) return true;
  return false;
}

}  // namespace

ClipWriter::ClipWriter(const std::string& path, int width, int height, double fps, const ClipOptions& opts)
    : path_(path), part_(path + ".part"), width_(width & ~1), height_(height & ~1), opts_(opts) {
  if (width_ < 2 || height_ < 2) throw ClipError("cannot write " + path_ + ": picture too small");
  if (!(fps > 0) || !std::isfinite(fps)) fps = 25;
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", part_.c_str());
  if (err < 0 || !raw) throw ClipError("cannot write " + path_ + ": no MP4 muxer: " + av_error_text(err));
  out_.reset(raw);

  // The encoder: the first of opts.encoders that exists and opens.
  std::string tried;
  bool opened = false;
  for (std::size_t i = 0; i < opts_.encoders.size() && !opened; ++i) {
    const std::string& name = opts_.encoders[i];
    std::vector<const AVCodec*> candidates;
    if (name == "h264") {
      void* it = nullptr;
      while (const AVCodec* c = av_codec_iterate(&it))
        if (av_codec_is_encoder(c) && c->id == AV_CODEC_ID_H264) candidates.push_back(c);
    } else if (const AVCodec* c = avcodec_find_encoder_by_name(name.c_str())) {
      candidates.push_back(c);
    }
    if (candidates.empty()) tried += (tried.empty() ? "" : "; ") + name + ": not in this FFmpeg";
    for (const AVCodec* c : candidates) {
      std::string why;
      if (try_open(c, fps, why)) {
        opened = true;
        break;
      }
      tried += (tried.empty() ? "" : "; ") + std::string(c->name) + ": " + why;
    }
  }
  if (!opened) throw ClipError("cannot write " + path_ + ": no usable video encoder (" + tried + ")");
  if (!tried.empty()) warning_ = "encoded with " + encoder_ + (tried.empty() ? std::string() : " (" + tried + ")");

  stream_ = avformat_new_stream(out_.get(), nullptr);
  if (!stream_) throw std::bad_alloc();
  err = avcodec_parameters_from_context(stream_->codecpar, enc_.get());
  if (err < 0) throw ClipError("cannot write " + path_ + ": " + av_error_text(err));
  stream_->time_base = enc_->time_base;
  err = avio_open(&out_->pb, part_.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) throw ClipError("cannot write " + part_ + ": " + av_error_text(err));
  DictGuard mux;
  av_dict_set(&mux.d, "movflags", "+faststart", 0);
  err = avformat_write_header(out_.get(), &mux.d);
  if (err < 0) throw ClipError("cannot write " + part_ + ": " + av_error_text(err));

  frame_ = make_frame();
  frame_->format = AV_PIX_FMT_YUV420P;
  frame_->width = width_;
  frame_->height = height_;
  err = av_frame_get_buffer(frame_.get(), 0);
  if (err < 0) throw std::bad_alloc();
  packet_.reset(av_packet_alloc());
  if (!packet_) throw std::bad_alloc();
}

bool ClipWriter::try_open(const AVCodec* codec, double fps, std::string& why) {
  if (!supports_yuv420p(codec)) {
    why = "no yuv420p input";
    return false;
  }
  CodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) throw std::bad_alloc();
  enc->width = width_;
  enc->height = height_;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  // MPEG-4 part 2 allows time base denominators up to 65535.
  enc->time_base = codec->id == AV_CODEC_ID_H264 ? AVRational{1, 90000} : AVRational{1, 1000};
  enc->framerate = av_d2q(fps, 100000);
  enc->gop_size = std::max(1, static_cast<int>(std::lround(fps * 2)));
  enc->color_range = AVCOL_RANGE_MPEG;
  enc->colorspace = AVCOL_SPC_SMPTE170M;
  enc->color_primaries = AVCOL_PRI_SMPTE170M;
  enc->color_trc = AVCOL_TRC_SMPTE170M;
  enc->thread_count = 0;
  if (out_->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  DictGuard o;
  if (std::string(codec->name) == "libx264") {
    av_dict_set(&o.d, "preset", "veryfast", 0);
    av_dict_set(&o.d, "crf", std::to_string(opts_.crf).c_str(), 0);
  } else if (codec->id == AV_CODEC_ID_MPEG4) {
    enc->bit_rate = 0;
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * 4;
  }
  const int err = avcodec_open2(enc.get(), codec, &o.d);
  if (err < 0) {
    why = av_error_text(err);
    return false;
  }
  frame_duration_ = std::max<std::int64_t>(1, std::llround(1.0 / (fps * av_q2d(enc->time_base))));
  enc_ = std::move(enc);
  encoder_ = codec->name;
  return true;
}

ClipWriter::~ClipWriter() {
  if (finished_) return;
  // Abandoned (an error): close everything, leave no partial file.
  enc_.reset();
  out_.reset();
  std::error_code ec;
  std::filesystem::remove(part_, ec);
}

void ClipWriter::drain(bool flush) {
  for (;;) {
    int err = avcodec_receive_packet(enc_.get(), packet_.get());
    if (err == AVERROR(EAGAIN) && !flush) return;
    if (err == AVERROR_EOF || err == AVERROR(EAGAIN)) return;
    if (err < 0) throw ClipError("cannot encode " + path_ + ": " + av_error_text(err));
    // Without a duration the MP4 muxer gives the last picture none, and
    // players drop it.
    if (packet_->duration <= 0) packet_->duration = frame_duration_;
    av_packet_rescale_ts(packet_.get(), enc_->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    err = av_interleaved_write_frame(out_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (err < 0) throw ClipError("cannot write " + part_ + ": " + av_error_text(err));
  }
}

void ClipWriter::write(const cv::Mat& bgr, double ts) {
  if (finished_) throw ClipError("cannot write " + path_ + ": already finished");
  if (bgr.empty() || bgr.type() != CV_8UC3) throw ClipError("cannot write " + path_ + ": not a BGR picture");
  sws_.reset(sws_getCachedContext(sws_.release(), bgr.cols, bgr.rows, AV_PIX_FMT_BGR24, width_, height_,
                                  AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws_) throw ClipError("cannot write " + path_ + ": cannot convert the picture to yuv420p");
  int err = av_frame_make_writable(frame_.get());
  if (err < 0) throw std::bad_alloc();
  const std::uint8_t* src[4] = {bgr.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  sws_scale(sws_.get(), src, src_stride, 0, bgr.rows, frame_->data, frame_->linesize);
  if (frames_ == 0) first_ts_ = ts;
  std::int64_t pts = std::llround((ts - first_ts_) / av_q2d(enc_->time_base));
  if (pts <= last_pts_) pts = last_pts_ + 1;
  last_pts_ = pts;
  frame_->pts = pts;
  err = avcodec_send_frame(enc_.get(), frame_.get());
  if (err < 0) throw ClipError("cannot encode " + path_ + ": " + av_error_text(err));
  ++frames_;
  drain(false);
}

void ClipWriter::finish() {
  if (finished_) return;
  if (frames_ == 0) throw ClipError("cannot write " + path_ + ": no pictures to encode");
  int err = avcodec_send_frame(enc_.get(), nullptr);
  if (err < 0 && err != AVERROR_EOF) throw ClipError("cannot encode " + path_ + ": " + av_error_text(err));
  drain(true);
  err = av_write_trailer(out_.get());
  if (err < 0) throw ClipError("cannot write " + part_ + ": " + av_error_text(err));
  if (out_->pb) {
    err = avio_closep(&out_->pb);
    if (err < 0) throw ClipError("cannot write " + part_ + ": " + av_error_text(err));
  }
  std::error_code ec;
  std::filesystem::rename(part_, path_, ec);
  if (ec) throw ClipError("cannot write " + path_ + ": " + ec.message());
  finished_ = true;
}

}  // namespace vidsift
