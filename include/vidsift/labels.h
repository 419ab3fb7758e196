// labels.h — class-id → label names.
//
// Contract:
//  * coco_labels() returns the 80 COCO labels in class-id order (the list the
//    shared models were trained on); it is the default when neither the user
//    (--labels FILE) nor the model's metadata supplies names.
//  * load_labels(path) reads one label per line (blank trailing lines ignored,
//    surrounding whitespace trimmed, a UTF-8 byte order mark skipped). Throws
//    LabelsError naming the file when it cannot be read, is not a regular
//    file, is larger than 1 MiB (small_file.h), is not UTF-8 (the message
//    gives the line and how to convert it) or holds no labels.
//  * label_name(labels, id) never fails: ids outside the list become
//    "class<id>".
// All functions are pure or read-only; safe from any thread.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace vidsift {

class LabelsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The 80 COCO class names, index = class id.
const std::vector<std::string>& coco_labels();

// Reads a labels file (one name per line). Throws LabelsError.
std::vector<std::string> load_labels(const std::filesystem::path& path);

// Name for `id`, or "class<id>" when the list does not cover it.
std::string label_name(const std::vector<std::string>& labels, int id);

// Maps user-supplied names ("person,car") to class ids. Throws LabelsError
// listing the unknown names (each with a "did you mean" when one is near)
// and every valid name, when a name is not in `labels`. Purely numeric
// entries are taken as class ids.
std::vector<int> resolve_classes(const std::vector<std::string>& names, const std::vector<std::string>& labels);

}  // namespace vidsift
