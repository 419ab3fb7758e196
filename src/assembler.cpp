#include "vidsift/assembler.h"

#include <algorithm>

#include "vidsift/format.h"

namespace vidsift {

Verdict decide_status(const VideoEnd& e, std::int64_t analysed, std::int64_t frame_errors, std::int64_t lost,
                      const std::string& frame_error) {
  Verdict v;
  if (e.cancelled && !e.opened) {
    v.status = VideoStatus::Cancelled;
    v.error = "the run was cancelled";
    return v;
  }
  if (!e.opened) {
    v.status = VideoStatus::Failed;
    v.error = e.error.empty() ? "cannot open video" : e.error;
    return v;
  }
  // Why the video stopped short, if it did.
  std::string why;
  if (e.timed_out) {
    why = "timed out after " + human_number(e.timeout_s) + " s (--video-timeout)";
  } else if (!e.error.empty()) {
    why = e.error;
  } else if (e.truncated) {
    why = e.decoder_error.empty() ? "the stream ended early" : e.decoder_error;
  }
  auto append = [](std::string& s, const std::string& more) {
    if (more.empty()) return;
    if (!s.empty()) s += "; ";
    s += more;
  };
  if (frame_errors > 0) append(why, std::to_string(frame_errors) + " frame(s) could not be analysed: " + frame_error);
  if (lost > 0) append(why, std::to_string(lost) + " frame(s) were lost in the pipeline");
  // Stopped (signal or --video-timeout) with every frame sent stored and no
  // error: what is stored is a clean prefix, and a rerun resumes after it.
  const bool clean_so_far = e.error.empty() && !e.truncated && e.decode_errors == 0 && frame_errors == 0 && lost == 0;
  if ((e.cancelled || e.timed_out) && clean_so_far) {
    v.status = VideoStatus::Interrupted;
    v.error = (e.timed_out ? "timed out after " + human_number(e.timeout_s) + " s (--video-timeout)"
                           : std::string("the run was interrupted")) +
              "; a rerun resumes after the last stored frame";
    return v;
  }
  if (e.cancelled) append(why, "the run was interrupted");

  if (!why.empty()) {
    v.status = analysed > 0 ? VideoStatus::Partial : VideoStatus::Failed;
    v.error = why;
    return v;
  }
  if (e.decoded == 0) {
    v.status = VideoStatus::Failed;
    v.error = e.decode_errors > 0 ? "no frame could be decoded: " + e.decoder_error : "the video holds no frames";
    return v;
  }
  if (e.decode_errors > 0) {
    v.status = analysed > 0 ? VideoStatus::Partial : VideoStatus::Failed;
    v.error = std::to_string(e.decode_errors) + " corrupt packet(s) skipped; last: " + e.decoder_error;
    return v;
  }
  v.status = VideoStatus::Done;
  return v;
}

Assembler::Assembler(Store& store, std::int64_t run_id, std::string settings_key, std::size_t labels,
                     Progress* progress)
    : store_(store), run_id_(run_id), settings_key_(std::move(settings_key)), progress_(progress) {
  totals_.per_label.assign(labels, 0);
}

void Assembler::count(VideoStatus s) {
  switch (s) {
    case VideoStatus::Done: ++totals_.videos_done; break;
    case VideoStatus::Partial: ++totals_.videos_partial; break;
    case VideoStatus::Cancelled: ++totals_.videos_cancelled; break;
    case VideoStatus::Interrupted: ++totals_.videos_interrupted; break;
    default: ++totals_.videos_failed; break;
  }
  if (progress_ && s != VideoStatus::Cancelled) {
    ++progress_->videos_finished;
    if (s != VideoStatus::Done && s != VideoStatus::Interrupted) ++progress_->videos_failed;
  }
}

void Assembler::on_start(const VideoStart& s) {
  VideoState& st = videos_[s.vid];
  if (st.db_id || st.dropped) return;  // duplicate start: ignore
  if (s.resume) {
    if (!store_.resume_video(run_id_, s.resume->video_id)) {
      // Another process resumed it first: it finishes the video; this run
      // drops its frames and records nothing.
      st.dropped = true;
      drain(s.vid, st);
      return;
    }
    st.db_id = s.resume->video_id;
    st.prior_frames = s.resume->frames;
    st.prior_decoded = s.resume->frames_decoded;
  } else {
    st.db_id = store_.start_video(run_id_, s.rec, settings_key_);
  }
  if (track_) {
    st.tracker.emplace(*track_);
    if (s.resume) {
      // Continue the tracks of the stored prefix (same ids, same filters).
      std::vector<std::int64_t> ids;
      for (const StoredFrame& f : store_.stored_frames(*st.db_id)) {
        ids.clear();
        for (const auto& d : f.dets) ids.push_back(d.track_id);
        st.tracker->restore(f.ts, f.dets, ids);
      }
    }
  }
  if (progress_) {
    progress_->frames_expected += s.frames_estimate;
    st.estimate = s.frames_estimate;
    ++progress_->videos_opened;
    progress_->set_current(s.rec.path);
  }
  drain(s.vid, st);
}

void Assembler::on_results(std::vector<FrameResult>& results) {
  std::vector<int> touched;
  touched.reserve(results.size());
  for (auto& r : results) {
    touched.push_back(r.vid);
    videos_[r.vid].pending.emplace(r.seq, std::move(r));
  }
  // Results of one batch may span videos; drain each one touched.
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (int v : touched) {
    auto it = videos_.find(v);
    if (it != videos_.end()) drain(v, it->second);
  }
}

void Assembler::on_end(const VideoEnd& e) {
  VideoState& st = videos_[e.vid];
  st.end = e;
  if (progress_ && e.opened) ++progress_->videos_closed;
  drain(e.vid, st);
}

void Assembler::drain(int vid, VideoState& st) {
  if (st.dropped) {
    st.next_seq += static_cast<std::int64_t>(st.pending.size());
    st.pending.clear();
    if (st.end && st.next_seq >= st.end->sampled) {
      count(VideoStatus::Cancelled);
      videos_.erase(vid);
    }
    return;
  }
  if (!st.db_id) {
    // No row yet. A video that never opened is final at its end; otherwise
    // its results wait for the VideoStart.
    if (st.end && !st.end->opened) finalize(vid, st, 0);
    return;
  }
  while (true) {
    auto it = st.pending.find(st.next_seq);
    if (it == st.pending.end()) break;
    FrameResult& r = it->second;
    StageTimer t;
    if (!r.error.empty()) {
      ++st.frame_errors;
      st.frame_error = r.error;
    } else {
      if (st.tracker) {
        // Every box goes to the tracker; only those >= the user's --conf
        // are stored (the rest served the second association stage).
        StageTimer tt;
        const auto ids = st.tracker->update(r.ts, r.dets);
        std::size_t kept = 0;
        for (std::size_t i = 0; i < r.dets.size(); ++i) {
          if (r.dets[i].confidence < track_->high_conf) continue;
          r.dets[kept] = r.dets[i];
          r.dets[kept++].track_id = ids[i];
        }
        r.dets.resize(kept);
        st.timings[Stage::Track].add(tt.seconds());
        t.lap();  // the store time below excludes the tracker's
      }
      store_.add_frame(*st.db_id, r.index, r.ts, r.dets);
      ++st.written;
      for (const auto& d : r.dets) {
        if (d.class_id >= 0 && static_cast<std::size_t>(d.class_id) < totals_.per_label.size())
          ++totals_.per_label[static_cast<std::size_t>(d.class_id)];
      }
      totals_.detections += static_cast<std::int64_t>(r.dets.size());
      st.detections += static_cast<std::int64_t>(r.dets.size());
      ++totals_.frames_analysed;
      if (progress_) {
        ++progress_->frames_analysed;
        progress_->detections += static_cast<std::int64_t>(r.dets.size());
      }
    }
    st.timings[Stage::Decode].add(r.decode_s);
    st.timings[Stage::Preprocess].add(r.pre_s);
    st.timings[Stage::Infer].add(r.infer_s);
    st.timings[Stage::Postprocess].add(r.post_s);
    st.timings[Stage::Store].add(t.seconds());
    st.pending.erase(it);
    ++st.next_seq;
  }
  if (st.end && st.next_seq >= st.end->sampled) finalize(vid, st, 0);
}

void Assembler::finalize(int vid, VideoState& st, std::int64_t lost) {
  const VideoEnd& e = *st.end;
  const Verdict v = decide_status(e, st.prior_frames + st.written, st.frame_errors, lost, st.frame_error);
  if (e.tail_decode_s > 0) st.timings[Stage::Decode].add(e.tail_decode_s);
  if (!st.db_id) {
    // Never opened.
    if (v.status != VideoStatus::Cancelled) store_.record_failed(run_id_, e.rec, settings_key_, v.error);
  } else if (v.status == VideoStatus::Cancelled) {
    store_.discard_video(*st.db_id);
  } else {
    VideoResult r;
    r.status = v.status;
    r.error = v.error;
    r.frames_decoded = st.prior_decoded + e.decoded;
    r.frames_analysed = st.prior_frames + st.written;
    store_.write_timings(run_id_, *st.db_id, st.timings);
    if (st.tracker) store_.write_tracks(*st.db_id);
    store_.finish_video(*st.db_id, r, e.warning);
  }
  count(v.status);
  if (progress_) {
    progress_->frames_expected += st.written - st.estimate;
    st.estimate = st.written;
  }
  if (progress_ && progress_->on_video_finished && v.status != VideoStatus::Cancelled) {
    FinishedVideo f;
    f.path = e.rec.path;
    f.status = v.status;
    f.error = v.error;
    f.frames_analysed = st.written;
    f.detections = st.detections;
    f.seconds = st.since_first.seconds();
    progress_->on_video_finished(f);
  }
  totals_.frames_decoded += e.decoded;
  totals_.timings.merge(st.timings);
  videos_.erase(vid);
}

void Assembler::finish_all() {
  while (!videos_.empty()) {
    auto it = videos_.begin();
    VideoState& st = it->second;
    if (!st.end) {
      // The decode stage never reported the end (it could not): treat the
      // video as cut short.
      VideoEnd e;
      e.vid = it->first;
      e.opened = st.db_id.has_value();
      e.sampled = st.next_seq + static_cast<std::int64_t>(st.pending.size());
      e.decoded = e.sampled;
      e.error = "the decode stage stopped without finishing this video";
      st.end = e;
    }
    if (!st.db_id && st.end->opened) {
      // Its row was never written (start lost): record it as failed.
      st.end->opened = false;
      if (st.end->error.empty()) st.end->error = "internal error: the video's start was lost";
    }
    // Write what can still be written in order, then count the rest as lost.
    std::int64_t lost = 0;
    if (st.db_id) {
      while (st.next_seq < st.end->sampled) {
        if (st.pending.count(st.next_seq) == 0) {
          ++lost;
          ++st.next_seq;
          continue;
        }
        const std::int64_t before = st.next_seq;
        // drain() would finalise when it reaches the end; keep the count of
        // lost frames by draining with the end hidden.
        auto end = std::move(st.end);
        st.end.reset();
        drain(it->first, st);
        st.end = std::move(end);
        if (st.next_seq == before) break;
      }
    }
    finalize(it->first, st, lost);
  }
}

}  // namespace vidsift
