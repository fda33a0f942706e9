#include "actors/roles/output_parser.hpp"

#include "actors/roles/python_text.hpp"

namespace proofmesh::roles {

namespace {

constexpr std::string_view think_end = "</think>";

std::string_view after_last_think(std::string_view text) {
  const size_t pos = text.rfind(think_end);
  return pos == std::string_view::npos ? text : text.substr(pos + think_end.size());
}

// The end of `\s*\n` matched at pos (greedy, then backtracking to the last newline of the
// whitespace run), or npos when the run holds no newline.
size_t whitespace_to_last_newline(std::string_view text, size_t pos) {
  size_t last_newline = std::string_view::npos;
  while (size_t n = python_space_at(text, pos)) {
    if (text[pos] == '\n') {
      last_newline = pos;
    }
    pos += n;
  }
  return last_newline == std::string_view::npos ? last_newline : last_newline + 1;
}

// re.sub(r'\*+\s*<word>\s*\*+', '## <word>', text): a bold heading becomes a markdown one.
std::string unbold_heading(std::string_view text, std::string_view word) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '*') {
      size_t j = i;
      while (j < text.size() && text[j] == '*') ++j;
      size_t k = j;
      while (size_t n = python_space_at(text, k)) k += n;
      if (text.substr(k, word.size()) == word) {
        size_t m = k + word.size();
        while (size_t n = python_space_at(text, m)) m += n;
        if (m < text.size() && text[m] == '*') {
          while (m < text.size() && text[m] == '*') ++m;
          out += "## ";
          out += word;
          i = m;
          continue;
        }
      }
      out.append(text.substr(i, j - i)); // the stars, unchanged; scanning resumes after them
      i = j;
      continue;
    }
    out += text[i++];
  }
  return out;
}

// re.sub(r'<heading>\s*\n', '\n<heading>\n', text).
std::string isolate_heading(std::string_view text, std::string_view heading) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, heading.size()) == heading) {
      const size_t end = whitespace_to_last_newline(text, i + heading.size());
      if (end != std::string_view::npos) {
        out += '\n';
        out += heading;
        out += '\n';
        i = end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// The first match of `<marker>\s*\n`: [start of marker, end of match), or npos.
std::pair<size_t, size_t> find_marker(std::string_view text, std::string_view marker,
                                      size_t from = 0) {
  for (size_t pos = text.find(marker, from); pos != std::string_view::npos;
       pos = text.find(marker, pos + 1)) {
    const size_t end = whitespace_to_last_newline(text, pos + marker.size());
    if (end != std::string_view::npos) {
      return {pos, end};
    }
  }
  return {std::string_view::npos, std::string_view::npos};
}

} // namespace

std::vector<std::string> boxed_answers(std::string_view text) {
  constexpr std::string_view open = "boxed{";
  std::vector<std::string> answers;
  for (size_t pos = text.find(open); pos != std::string_view::npos;
       pos = text.find(open, pos + 1)) {
    const size_t begin = pos + open.size();
    // The piece runs to the next "boxed{" (str.split), or to the end.
    const size_t next = text.find(open, begin);
    const std::string_view piece =
        text.substr(begin, next == std::string_view::npos ? std::string_view::npos : next - begin);
    int depth = 0;
    for (size_t i = 0; i < piece.size(); ++i) {
      if (piece[i] == '{') {
        ++depth;
      } else if (piece[i] == '}' && --depth < 0) {
        const bool percent = i + 1 < piece.size() && piece[i + 1] == '%';
        answers.emplace_back(piece.substr(0, percent ? i + 1 : i));
        break;
      }
    }
  }
  return answers;
}

std::optional<parsed_generation> parse_generation(std::string_view output) {
  std::string text(python_strip(after_last_think(output)));
  text = unbold_heading(text, "Solution");
  text = unbold_heading(text, "Self Evaluation");
  text = isolate_heading(text, "## Solution");
  text = isolate_heading(text, "## Self Evaluation");
  const std::string_view t = python_strip(text);

  const auto [eval_start, eval_end] = find_marker(t, "\n## Self Evaluation");
  if (eval_start == std::string_view::npos) {
    return std::nullopt;
  }
  const auto [sol_start, sol_end] = find_marker(t.substr(0, eval_start), "## Solution");
  if (sol_start == std::string_view::npos) {
    return std::nullopt;
  }
  parsed_generation out;
  out.solution = python_strip(t.substr(sol_end, eval_start - sol_end));
  out.self_eval = python_strip(t.substr(eval_end));
  std::vector<std::string> answers = boxed_answers(out.self_eval);
  for (auto it = answers.rbegin(); it != answers.rend(); ++it) {
    if (!it->empty()) {
      out.self_eval_score = python_float(*it).value_or(0.0);
      break;
    }
  }
  return out;
}

std::optional<parsed_verification> parse_verification(std::string_view output) {
  const size_t pos = output.rfind(think_end);
  if (pos == std::string_view::npos) {
    return std::nullopt; // the reference expects a reasoning model
  }
  const std::string_view analysis = output.substr(pos + think_end.size());
  std::vector<std::string> answers = boxed_answers(analysis);
  for (auto it = answers.rbegin(); it != answers.rend(); ++it) {
    const std::string_view stripped = python_strip(*it);
    if (!stripped.empty()) {
      std::optional<double> score = python_float(stripped);
      if (!score) {
        return std::nullopt;
      }
      return parsed_verification{std::string(python_strip(analysis)), *score};
    }
  }
  return std::nullopt;
}

} // namespace proofmesh::roles
