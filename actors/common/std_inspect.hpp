// How std::optional and std::variant cross a CAF 0.17 mailbox, which knows only caf::optional and
// caf::variant: an optional as a flag, then the value if present; a variant as its index, then
// the alternative it names (nothing for std::monostate). Rules of the road: CAF finds inspect by
// argument-dependent lookup, and these types' associated namespaces are their arguments', so a
// module whose optionals or variants cross mailboxes says `using proofmesh::std_inspect::inspect;`
// in its own namespace; a variant has at most 255 alternatives.
#pragma once

#include <caf/detail/scope_guard.hpp>
#include <caf/sec.hpp>

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace proofmesh::std_inspect {

// Written by a deserializer: the flag came first; this reads the value if it said present.
template <class T>
struct optional_slot {
  bool& present;
  T& value;
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, optional_slot& x) {
    return x.present ? f(x.value) : f();
  }
};

template <class Inspector, class T>
std::enable_if_t<Inspector::reads_state, typename Inspector::result_type>
inspect(Inspector& f, std::optional<T>& x) {
  return x ? f(true, *x) : f(false);
}

template <class Inspector, class T>
std::enable_if_t<Inspector::writes_state, typename Inspector::result_type>
inspect(Inspector& f, std::optional<T>& x) {
  bool present = false;
  T value{};
  optional_slot<T> slot{present, value};
  auto guard = caf::detail::make_scope_guard([&] {
    x = present ? std::optional<T>(std::move(value)) : std::nullopt;
  });
  return f(present, slot);
}

template <class Inspector, class T>
typename Inspector::result_type inspect_alternative(Inspector& f, T& value) {
  if constexpr (std::is_same_v<T, std::monostate>) {
    return f();
  } else {
    return f(value);
  }
}

// Written by a deserializer: the index came first; this makes that alternative and reads it.
template <class... Ts>
struct variant_slot {
  uint8_t& index;
  std::variant<Ts...>& value;

  template <class Inspector, size_t... I>
  typename Inspector::result_type read(Inspector& f, std::index_sequence<I...>) {
    using result = typename Inspector::result_type;
    result out{};
    bool found = false;
    ((index == I ? (found = true,
                    out = inspect_alternative(f, value.template emplace<I>()), 0)
                 : 0),
     ...);
    if (!found) out = caf::make_error(caf::sec::invalid_argument);
    return out;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, variant_slot& x) {
    return x.read(f, std::index_sequence_for<Ts...>{});
  }
};

template <class Inspector, class... Ts>
std::enable_if_t<Inspector::reads_state, typename Inspector::result_type>
inspect(Inspector& f, std::variant<Ts...>& x) {
  static_assert(sizeof...(Ts) < 256);
  uint8_t index = static_cast<uint8_t>(x.index());
  return std::visit(
      [&](auto& value) -> typename Inspector::result_type {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::monostate>) {
          return f(index);
        } else {
          return f(index, value);
        }
      },
      x);
}

template <class Inspector, class... Ts>
std::enable_if_t<Inspector::writes_state, typename Inspector::result_type>
inspect(Inspector& f, std::variant<Ts...>& x) {
  uint8_t index = 0;
  variant_slot<Ts...> slot{index, x};
  return f(index, slot);
}

} // namespace proofmesh::std_inspect
