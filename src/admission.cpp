#include "vidsift/admission.h"

namespace vidsift {

Admission admit(const VideoFile& file, const AdmissionOptions& opts, const FinalLookup& lookup,
                const ResumeLookup& resume_lookup) noexcept {
  Admission a;
  try {
    a.fingerprint = fingerprint(file);
  } catch (const std::exception& e) {
    a.verdict = Admit::Unreadable;
    a.error = e.what();
    return a;
  } catch (...) {
    a.verdict = Admit::Unreadable;
    a.error = "cannot read " + file.path;
    return a;
  }
  if (opts.force || !lookup) return a;
  try {
    if (resume_lookup) {
      a.resume = resume_lookup(file.path, a.fingerprint);
      if (a.resume) return a;
    }
    if (auto prev = lookup(file.path, a.fingerprint, !opts.retry_failed)) {
      a.verdict = *prev == VideoStatus::Done ? Admit::SkipDone : Admit::SkipFailed;
    }
  } catch (const std::exception& e) {
    a.verdict = Admit::Unreadable;
    a.error = std::string("cannot look up earlier results: ") + e.what();
  } catch (...) {
    a.verdict = Admit::Unreadable;
    a.error = "cannot look up earlier results";
  }
  return a;
}

}  // namespace vidsift
