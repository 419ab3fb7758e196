#include "log.h"

#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

#include "vidsift/format.h"
#include "vidsift/utf8.h"

namespace vidsift::cli {

namespace {

// Forwards to the original buffer, writing a timestamp before the first
// character of every line.
class StampingBuf final : public std::streambuf {
 public:
  explicit StampingBuf(std::streambuf* out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (at_line_start_) {
      const std::string ts = utc_timestamp() + " ";
      out_->sputn(ts.data(), static_cast<std::streamsize>(ts.size()));
      at_line_start_ = false;
    }
    if (traits_type::eq_int_type(out_->sputc(traits_type::to_char_type(c)), traits_type::eof()))
      return traits_type::eof();
    if (traits_type::to_char_type(c) == '\n') at_line_start_ = true;
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i)
      if (traits_type::eq_int_type(overflow(traits_type::to_int_type(s[i])), traits_type::eof())) return i;
    return n;
  }
  int sync() override { return out_->pubsync(); }

 private:
  std::streambuf* out_;
  bool at_line_start_ = true;
};

std::mutex& line_mutex() {
  static std::mutex m;  // guards whole lines on std::cerr
  return m;
}

std::string seconds_text(double s) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << s;
  return o.str();
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

StampedStderr::StampedStderr(bool enabled) {
  if (!enabled) return;
  original_ = std::cerr.rdbuf();
  buf_ = std::make_unique<StampingBuf>(original_);
  std::cerr.rdbuf(buf_.get());
}

StampedStderr::~StampedStderr() {
  if (original_) {
    std::cerr.flush();
    std::cerr.rdbuf(original_);
  }
}

void line(const std::string& text) {
  std::lock_guard<std::mutex> lock(line_mutex());
  std::cerr << text << "\n";
  std::cerr.flush();
}

std::string finished_video_line(const FinishedVideo& f) {
  std::string s = std::string("vidsift: video ") + status_name(f.status) +
                  " frames=" + std::to_string(f.frames_analysed) + " detections=" + std::to_string(f.detections) +
                  " seconds=" + seconds_text(f.seconds) + " " + to_utf8(f.path);
  if (!f.error.empty()) s += ": " + f.error;
  // One line, whatever the path or the error holds.
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string summary_line(const SummaryFacts& s) {
  std::string out = "vidsift: summary run=" + std::to_string(s.run_id) + " status=" + s.status +
                    " exit=" + std::to_string(s.exit_status) + " inputs=" + std::to_string(s.inputs) +
                    " done=" + std::to_string(s.done) + " partial=" + std::to_string(s.partial) +
                    " failed=" + std::to_string(s.failed) + " skipped=" + std::to_string(s.skipped) +
                    " unfinished=" + std::to_string(s.unfinished) + " frames=" + std::to_string(s.frames) +
                    " detections=" + std::to_string(s.detections) + " seconds=" + seconds_text(s.seconds) +
                    " db=" + to_utf8(s.db);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace vidsift::cli
