// admission.h — the first step of a video's way through the pipeline: should
// this file be analysed at all?
//
// Contract of admit():
//  * Fingerprints the file (discover.h: size, mtime and a hash of its first
//    and last MiB) and looks the (path, fingerprint) pair up among the
//    finished results made with the run's settings key:
//      - an `interrupted` row as the latest one, unless force
//                                             → Analyse with `resume` set
//                                               (continue after its last frame);
//      - a `done` result                      → SkipDone;
//      - a `failed`/`partial` result, unless retry_failed → SkipFailed
//        (reported as still failed, not analysed again);
//      - none, or force                       → Analyse.
//  * A file that cannot be read is Unreadable, with the reason in `error`;
//    it is recorded as a failed video like any other.
//  * Never throws: a lookup that fails (database error) also yields
//    Unreadable with the message, so one bad lookup cannot stop the run.
// The pipeline calls admit() on its decoder threads, so fingerprinting
// overlaps with the decoding of other videos and stops as soon as the run is
// cancelled (before the next file), instead of reading every file of the
// archive before anything decodes.
// Thread-safe if `lookup` is (each decoder thread uses its own connection).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "vidsift/discover.h"
#include "vidsift/store.h"
#include "vidsift/video_status.h"

namespace vidsift {

struct AdmissionOptions {
  bool force = false;         // analyse even what is done
  bool retry_failed = false;  // analyse again what failed or was partial
};

enum class Admit { Analyse, SkipDone, SkipFailed, Unreadable };

struct Admission {
  Admit verdict = Admit::Analyse;
  std::string fingerprint;            // set unless Unreadable
  std::string error;                  // set when Unreadable
  std::optional<ResumePoint> resume;  // Analyse: continue this interrupted row
};

// Latest final status for (path, fingerprint) under the run's settings key:
// with include_failed, the latest done/partial/failed row; without, only a
// done row. Store::find_final has exactly this meaning.
using FinalLookup = std::function<std::optional<VideoStatus>(const std::string& path, const std::string& fingerprint,
                                                             bool include_failed)>;

// Where an interrupted row for (path, fingerprint) resumes, if the latest
// row is one. Store::find_resume has exactly this meaning.
using ResumeLookup = std::function<std::optional<ResumePoint>(const std::string& path, const std::string& fingerprint)>;

// See contract above. Without `resume_lookup`, nothing is resumed.
Admission admit(const VideoFile& file, const AdmissionOptions& opts, const FinalLookup& lookup,
                const ResumeLookup& resume_lookup = {}) noexcept;

}  // namespace vidsift
