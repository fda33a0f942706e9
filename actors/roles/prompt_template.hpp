// A prompt template in Python str.format syntax, rendered byte for byte as the reference does
// (`template.format(**args)`). Rules of the road: `{name}` is replaced by the argument `name`;
// `{{` and `}}` are literal braces; a field Python would treat differently (`{0}`, `{}`,
// `{a.b}`, `{a[0]}`, `{a!r}`, `{a:>10}`) or a lone brace is refused when the template is
// parsed, with the offset, so a bad templates file fails at start-up, not on the first task.
// Arguments the template does not name are ignored, as str.format ignores extra keywords; a
// field without an argument is an error at render time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::roles {

class prompt_template {
public:
  /// Throws input_error naming the offset of the first construct it does not support.
  explicit prompt_template(std::string_view text);

  /// Throws input_error naming a field that has no argument.
  std::string render(const std::map<std::string, std::string, std::less<>>& args) const;

  /// The field names, in order of appearance (repeats included).
  std::vector<std::string> fields() const;

private:
  struct piece {
    std::string text; // literal text, or the field name
    bool is_field;
  };
  std::vector<piece> pieces_;
};

} // namespace proofmesh::roles
