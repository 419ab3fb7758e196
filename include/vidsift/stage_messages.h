// stage_messages.h — the messages that travel between the pipeline's stages.
//
// The stages (decode_stage.h, the batch/infer/postprocess bodies wired in
// pipeline.cpp, assembler.h) know one another only through these types, the
// way FFmpeg's fftools stages exchange packets and frames through the
// scheduler.
//
//   decode stage ──FrameJob──► batch ──► infer ──► postprocess ──FrameResult──► assembler
//        │                                                                        ▲
//        └──────────────VideoStart / VideoEnd (facts about the video)─────────────┘
//
// Contract:
//  * `vid` identifies a video within one run (its index in the job list).
//  * `seq` numbers the frames a video sent for analysis: 0, 1, 2, ... with no
//    gap. A video's VideoEnd says how many were sent (`sampled`), so the
//    assembler knows when it has them all.
//  * Every FrameJob sent produces exactly one FrameResult, with `error` set
//    when it could not be analysed, so a video can always be finished.
//  * VideoEnd carries facts (what happened), not a verdict: the assembler
//    decides the final status (see decide_status in assembler.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vidsift/buffer_pool.h"
#include "vidsift/discover.h"
#include "vidsift/letterbox.h"
#include "vidsift/postprocess.h"
#include "vidsift/store.h"

namespace vidsift {

// One video to analyse.
struct VideoJob {
  VideoFile file;
  std::string fingerprint;
  std::optional<ResumePoint> resume;  // continue this interrupted row
};

// A sampled, preprocessed frame in a pooled input slot.
struct FrameJob {
  int vid = 0;
  std::int64_t seq = 0;
  std::int64_t index = 0;   // frame index in the video (see decoder.h)
  double ts = 0;            // seconds
  BufferPool::Handle slot;  // the network input, released after inference
  Letterbox lb;             // maps network boxes back to source pixels
  double decode_s = 0;
  double pre_s = 0;
};

// The outcome of one frame.
struct FrameResult {
  int vid = 0;
  std::int64_t seq = 0;
  std::int64_t index = 0;
  double ts = 0;
  std::vector<Detection> dets;
  double decode_s = 0, pre_s = 0, infer_s = 0, post_s = 0;
  std::string error;  // non-empty: this frame could not be analysed
};

// The video opened: its row can be written. Sent before its first frame.
struct VideoStart {
  int vid = 0;
  VideoRecord rec;
  std::int64_t frames_estimate = 0;   // sampled frames expected (for progress)
  std::optional<ResumePoint> resume;  // continue this interrupted row (frames after its last)
};

// The decode stage is done with a video. Sent once per video, last.
struct VideoEnd {
  int vid = 0;
  bool opened = false;             // a VideoStart was sent
  VideoRecord rec;                 // the file (probed fields set when opened)
  std::int64_t sampled = 0;        // frames sent for analysis (seq 0..sampled-1)
  std::int64_t decoded = 0;        // frames the decoder produced
  bool cancelled = false;          // the run was cancelled while this video ran
  bool timed_out = false;          // --video-timeout expired
  double timeout_s = 0;            // the limit, for the message
  std::string error;               // open/preprocess/internal error, if any
  bool truncated = false;          // the stream ended early (read error, cut file)
  std::int64_t decode_errors = 0;  // corrupt packets skipped
  std::string decoder_error;       // the decoder's last error text
  std::string warning;             // not an error, worth keeping (a resolution change)
  double tail_decode_s = 0;        // decode time after the last analysed frame
};

}  // namespace vidsift
