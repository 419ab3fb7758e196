#include "report_thumbs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "vidsift/limits.h"

namespace vidsift::cli {

Thumbnailer make_thumbnailer(Store&) {
  return [](const ThumbRequest&) { return ThumbResult{"", "this build cannot decode pictures"}; };
}

bool write_html_file(Store& store, const ReportScope& scope, const HtmlOptions& options, const std::string& path) {
  std::ostringstream page;
  write_html_report(store, scope, options, make_thumbnailer(store), page);
  const std::string text = page.str();
  const std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      std::cerr << "vidsift: cannot write " << path << " (missing directory, read-only or disk full?)\n";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::cerr << "vidsift: cannot write " << path << ": " << std::strerror(errno) << "\n";
    std::remove(tmp.c_str());
    return false;
  }
  std::cerr << "vidsift: wrote " << path << " (" << human_bytes(static_cast<double>(text.size())) << ")\n";
  return true;
}

}  // namespace vidsift::cli
