// av_ptr.h — RAII owners for FFmpeg handles.
//
// Contract: each alias owns exactly one FFmpeg object and frees it with the
// matching FFmpeg function when destroyed; a null pointer is allowed and is a
// no-op. They are move-only. No FFmpeg handle in vidsift lives outside one of
// these.
#pragma once

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace vidsift {

struct AVFormatContextCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct AVCodecContextFreer {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct AVFrameFreer {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct AVPacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
// An output (muxing) context: closes its file, then frees it.
struct AVOutputContextCloser {
  void operator()(AVFormatContext* p) const {
    if (p && p->pb && p->oformat && !(p->oformat->flags & AVFMT_NOFILE)) avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
struct SwsContextFreer {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};

using FormatContextPtr = std::unique_ptr<AVFormatContext, AVFormatContextCloser>;
using OutputContextPtr = std::unique_ptr<AVFormatContext, AVOutputContextCloser>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, AVCodecContextFreer>;
using FramePtr = std::unique_ptr<AVFrame, AVFrameFreer>;
using PacketPtr = std::unique_ptr<AVPacket, AVPacketFreer>;
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextFreer>;

// Allocates a frame; throws std::bad_alloc on failure.
inline FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

}  // namespace vidsift
