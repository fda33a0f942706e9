// Reading small text files (configs, tokenizer.json, indexes) with a size cap.
// Rules of the road: the size is checked before a byte is read, and only regular files are read,
// so a huge file, a FIFO or /dev/zero gives an input_error instead of an allocation or a hang.
#pragma once

#include <cstddef>
#include <string>

namespace proofmesh {

/// The whole file; throws input_error naming `path` if it is missing, not a regular file,
/// unreadable, or larger than `max_bytes`.
std::string read_text_file(const std::string& path, size_t max_bytes);

} // namespace proofmesh
