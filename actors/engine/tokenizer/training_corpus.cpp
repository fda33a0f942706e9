// The built-in training corpus: hand-written text in the mix a proof-search model sees (English
// mathematical prose, LaTeX, numbers, Lean- and Python-like code, a little Chinese and Japanese),
// so tokenizers trained on it exercise every pre-tokenizer branch. Keep it free of anything
// copied: it ships in the binary. The file is long because it is data, not code.
#include "actors/engine/tokenizer/tokenizer_trainer.hpp"

namespace proofmesh::engine {

namespace {

constexpr std::string_view corpus = R"corpus(
Chapter 1. Numbers, sets and functions

A set is a collection of objects, called its elements. We write x \in A when x is an element of A,
and x \notin A otherwise. Two sets are equal when they have the same elements. The empty set,
written \emptyset, has no elements at all. If every element of A is also an element of B we say
that A is a subset of B and write A \subseteq B. The union A \cup B contains the elements that lie
in A or in B; the intersection A \cap B contains those that lie in both.

The natural numbers are 0, 1, 2, 3, and so on. We write \mathbb{N} for the set of natural numbers,
\mathbb{Z} for the integers, \mathbb{Q} for the rationals and \mathbb{R} for the real numbers. Every
natural number n has a successor n + 1, and induction says that a property which holds for 0 and
passes from n to n + 1 holds for every natural number.

Theorem 1.1. For every natural number n, the sum 1 + 2 + \cdots + n equals n(n + 1)/2.

Proof. We argue by induction on n. For n = 0 the sum is empty and equals 0, which is 0 \cdot 1 / 2.
Suppose the formula holds for n. Then
$$1 + 2 + \cdots + n + (n + 1) = \frac{n(n+1)}{2} + (n + 1) = \frac{(n+1)(n+2)}{2},$$
which is the formula for n + 1. This completes the induction. \qed

Theorem 1.2. There are infinitely many prime numbers.

Proof. Suppose there were only finitely many primes p_1, p_2, \ldots, p_k. Let N = p_1 p_2 \cdots p_k + 1.
Then N > 1, so N has a prime factor q. But q cannot be any of the p_i, since dividing N by p_i
leaves remainder 1. This contradicts the assumption that the list was complete. \qed

Definition 1.3. A function f : A \to B is injective if f(x) = f(y) implies x = y for all x, y in A.
It is surjective if for every b in B there is some a in A with f(a) = b. It is bijective if it is
both injective and surjective. A bijection has an inverse function f^{-1} : B \to A.

Lemma 1.4. The composition of two injective functions is injective.

Proof. Let f : A \to B and g : B \to C be injective, and suppose g(f(x)) = g(f(y)). Since g is
injective, f(x) = f(y). Since f is injective, x = y. Hence g \circ f is injective. \qed

Exercise 1.5. Show that the composition of two surjective functions is surjective, and deduce that
the composition of two bijections is a bijection. What is the inverse of g \circ f?

Chapter 2. Divisibility and congruences

We say that an integer a divides an integer b, written a \mid b, if b = ak for some integer k. The
greatest common divisor \gcd(a, b) of two integers, not both zero, is the largest integer that
divides both. The Euclidean algorithm computes it by repeated division with remainder: if
a = qb + r with 0 \le r < b, then \gcd(a, b) = \gcd(b, r).

For example, \gcd(252, 198) is computed as follows:
252 = 1 \cdot 198 + 54,
198 = 3 \cdot 54 + 36,
54 = 1 \cdot 36 + 18,
36 = 2 \cdot 18 + 0,
so \gcd(252, 198) = 18. Working backwards gives 18 = 4 \cdot 198 - 3 \cdot 252, an instance of
Bezout's identity: for all integers a and b there are integers x and y with ax + by = \gcd(a, b).

Two integers a and b are congruent modulo m, written a \equiv b \pmod{m}, if m divides a - b.
Congruence modulo m is an equivalence relation, and it respects addition and multiplication: if
a \equiv b and c \equiv d modulo m, then a + c \equiv b + d and ac \equiv bd modulo m.

Theorem 2.1 (Fermat's little theorem). If p is prime and p does not divide a, then
a^{p-1} \equiv 1 \pmod{p}.

Proof. The numbers a, 2a, 3a, \ldots, (p-1)a are pairwise incongruent modulo p and none of them is
divisible by p, so modulo p they are a rearrangement of 1, 2, \ldots, p - 1. Multiplying them all
together gives a^{p-1} (p-1)! \equiv (p-1)! \pmod{p}. Since (p-1)! is not divisible by p we may
cancel it, and the result follows. \qed

Example 2.2. Take p = 7 and a = 3. Then 3^6 = 729 = 104 \cdot 7 + 1, so indeed 3^6 \equiv 1 (mod 7).
Likewise 2^{10} = 1024 and 1024 = 93 \cdot 11 + 1, so 2^{10} \equiv 1 (mod 11).

The Chinese remainder theorem states that if m and n are coprime, then for any integers a and b
the system x \equiv a (mod m), x \equiv b (mod n) has a solution, unique modulo mn. For instance,
x \equiv 2 (mod 3) and x \equiv 3 (mod 5) has the solution x = 8, and every other solution differs
from 8 by a multiple of 15: the solutions are ..., -7, 8, 23, 38, 53, ...

Chapter 3. Real analysis

A sequence (a_n) of real numbers converges to a limit L if for every \varepsilon > 0 there is an N
such that |a_n - L| < \varepsilon for all n \ge N. We then write \lim_{n \to \infty} a_n = L.

Lemma 3.1. A convergent sequence is bounded.

Proof. Let a_n \to L and take \varepsilon = 1. There is an N with |a_n - L| < 1 for n \ge N, so
|a_n| < |L| + 1 for those n. The finitely many terms a_1, \ldots, a_{N-1} are bounded by their
maximum M, so |a_n| \le \max(M, |L| + 1) for all n. \qed

Theorem 3.2 (squeeze theorem). If a_n \le b_n \le c_n for all n and both (a_n) and (c_n) converge
to L, then (b_n) converges to L as well.

The series \sum_{n=1}^{\infty} 1/n^2 converges, and Euler showed that its sum is \pi^2/6, roughly
1.6449340668. The harmonic series \sum_{n=1}^{\infty} 1/n diverges: grouping the terms as
1 + 1/2 + (1/3 + 1/4) + (1/5 + \cdots + 1/8) + \cdots shows that each group is at least 1/2.

A function f : \mathbb{R} \to \mathbb{R} is continuous at a point c if \lim_{x \to c} f(x) = f(c).
Equivalently, for every \varepsilon > 0 there is a \delta > 0 such that |x - c| < \delta implies
|f(x) - f(c)| < \varepsilon. The intermediate value theorem says that a continuous function on a
closed interval [a, b] takes every value between f(a) and f(b).

\begin{theorem}[Mean value theorem]
Let $f \colon [a,b] \to \mathbb{R}$ be continuous on $[a,b]$ and differentiable on $(a,b)$. Then
there exists $c \in (a,b)$ such that
\[
  f'(c) = \frac{f(b) - f(a)}{b - a}.
\]
\end{theorem}

\begin{proof}
Consider $g(x) = f(x) - \frac{f(b)-f(a)}{b-a}(x - a)$. Then $g(a) = g(b) = f(a)$, so by Rolle's
theorem there is $c \in (a,b)$ with $g'(c) = 0$, that is, $f'(c) = \frac{f(b)-f(a)}{b-a}$.
\end{proof}

\begin{align*}
  \int_0^1 x^2 \, dx &= \left[ \frac{x^3}{3} \right]_0^1 = \frac{1}{3}, \\
  \int_0^{\pi} \sin x \, dx &= \left[ -\cos x \right]_0^{\pi} = 2, \\
  \int_1^{e} \frac{dx}{x} &= \ln e - \ln 1 = 1.
\end{align*}

The exponential function satisfies e^{x} = \sum_{k=0}^{\infty} x^k / k!, and e \approx 2.718281828.
Its derivative is itself: \frac{d}{dx} e^x = e^x. Taylor's theorem gives, for a function with n + 1
continuous derivatives, f(x) = \sum_{k=0}^{n} \frac{f^{(k)}(a)}{k!} (x - a)^k + R_n(x), where the
remainder satisfies |R_n(x)| \le \frac{M}{(n+1)!} |x - a|^{n+1}.

Chapter 4. Linear algebra

A vector space V over a field F is a set with an addition and a scalar multiplication satisfying
the usual axioms. Vectors v_1, \ldots, v_k are linearly independent if c_1 v_1 + \cdots + c_k v_k = 0
forces c_1 = \cdots = c_k = 0. A basis is a linearly independent set that spans V, and all bases of
a finite-dimensional space have the same size, the dimension \dim V.

Let A be the matrix
\[
  A = \begin{pmatrix} 2 & 1 \\ 1 & 2 \end{pmatrix}.
\]
Its characteristic polynomial is \det(A - \lambda I) = (2 - \lambda)^2 - 1 = \lambda^2 - 4\lambda + 3,
whose roots are \lambda = 1 and \lambda = 3. The eigenvector for \lambda = 3 is (1, 1)^T and the one
for \lambda = 1 is (1, -1)^T. Since A is symmetric, its eigenvectors are orthogonal.

Theorem 4.1 (rank-nullity). For a linear map T : V \to W with V finite-dimensional,
\dim V = \dim \ker T + \dim \operatorname{im} T.

Theorem 4.2 (Cauchy-Schwarz). For all vectors u and v in an inner product space,
|\langle u, v \rangle| \le \|u\| \, \|v\|, with equality exactly when u and v are linearly dependent.

Proof. If v = 0 both sides vanish. Otherwise, for every real t,
0 \le \|u - t v\|^2 = \|u\|^2 - 2t \langle u, v \rangle + t^2 \|v\|^2.
A quadratic in t that is never negative has a non-positive discriminant, so
4 \langle u, v \rangle^2 - 4 \|u\|^2 \|v\|^2 \le 0, which is the claim. \qed

Chapter 5. Combinatorics and probability

The binomial coefficient \binom{n}{k} counts the subsets of size k of a set of size n, and
\binom{n}{k} = \frac{n!}{k!(n-k)!}. Pascal's rule says \binom{n}{k} = \binom{n-1}{k-1} + \binom{n-1}{k}.
The binomial theorem states (x + y)^n = \sum_{k=0}^{n} \binom{n}{k} x^k y^{n-k}; setting x = y = 1
gives \sum_k \binom{n}{k} = 2^n.

Some values: \binom{5}{2} = 10, \binom{10}{3} = 120, \binom{20}{10} = 184756, \binom{52}{5} = 2598960.
The Fibonacci numbers 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597 satisfy
F_{n+1} = F_n + F_{n-1}, and F_n is the integer nearest to \varphi^n / \sqrt{5}, where
\varphi = (1 + \sqrt{5})/2 \approx 1.6180339887.

The pigeonhole principle: if n + 1 objects are placed in n boxes, some box holds at least two.
Example: among any 13 people, two were born in the same month. Among any five points in a unit
square, two are at distance at most \sqrt{2}/2, by cutting the square into four smaller squares.

A fair die is rolled twice. The probability that the sum is 7 is 6/36 = 1/6, since the pairs
(1,6), (2,5), (3,4), (4,3), (5,2), (6,1) are the favourable outcomes. The expected value of one roll
is (1 + 2 + 3 + 4 + 5 + 6)/6 = 3.5, and by linearity of expectation the expected sum is 7.

For events A and B with P(B) > 0, the conditional probability is P(A | B) = P(A \cap B) / P(B).
Bayes' rule reads P(A | B) = P(B | A) P(A) / P(B). If a test for a condition that affects 1% of
people has a 99% true positive rate and a 5% false positive rate, a positive result means the
condition is present with probability 0.99 \cdot 0.01 / (0.99 \cdot 0.01 + 0.05 \cdot 0.99) = 1/6.

Chapter 6. Groups

A group is a set G with an associative operation, an identity element e, and inverses. The
integers under addition form a group; so do the nonzero rationals under multiplication. The
symmetric group S_n consists of all permutations of \{1, \ldots, n\} and has n! elements.

Theorem 6.1 (Lagrange). If H is a subgroup of a finite group G, then |H| divides |G|.

Proof. The left cosets gH partition G, and each has exactly |H| elements, because h \mapsto gh is a
bijection from H to gH. So |G| = [G : H] \cdot |H|. \qed

Corollary 6.2. The order of every element of a finite group G divides |G|. In particular
g^{|G|} = e for all g in G. Applied to the group (\mathbb{Z}/p\mathbb{Z})^\times of order p - 1,
this gives Fermat's little theorem again.

Chapter 7. Formal proofs

In a proof assistant, statements are types and proofs are terms. The following Lean 4 snippets
show the style of the proofs that a search procedure produces, one tactic at a time.

theorem add_comm' (a b : Nat) : a + b = b + a := by
  induction b with
  | zero => simp
  | succ n ih => rw [Nat.add_succ, ih, Nat.succ_add]

theorem two_mul' (n : Nat) : 2 * n = n + n := by
  omega

lemma sq_nonneg' (x : ℝ) : 0 ≤ x ^ 2 := by
  nlinarith [sq_nonneg x]

example (a b : ℕ) (h : a ≤ b) : a < b + 1 := by
  exact Nat.lt_succ_of_le h

theorem sum_first_n (n : ℕ) : ∑ i in Finset.range (n + 1), i = n * (n + 1) / 2 := by
  induction n with
  | zero => simp
  | succ k ih =>
    rw [Finset.sum_range_succ, ih]
    have : k * (k + 1) % 2 = 0 := by
      rcases Nat.even_or_odd k with ⟨m, rfl⟩ | ⟨m, rfl⟩ <;> ring_nf <;> omega
    omega

theorem exists_prime_gt (n : ℕ) : ∃ p, n < p ∧ Nat.Prime p := by
  obtain ⟨p, hp, hprime⟩ := Nat.exists_infinite_primes (n + 1)
  exact ⟨p, by omega, hprime⟩

lemma abs_sub_lt_of_lt {a b ε : ℝ} (h₁ : a - b < ε) (h₂ : b - a < ε) : |a - b| < ε := by
  rw [abs_lt]
  constructor <;> linarith

The goal state after each step is printed as hypotheses above a turnstile:
case succ
k : ℕ
ih : ∑ i in Finset.range (k + 1), i = k * (k + 1) / 2
⊢ ∑ i in Finset.range (k + 1 + 1), i = (k + 1) * (k + 1 + 1) / 2

Unicode symbols that appear often: ∀ ∃ ¬ ∧ ∨ → ↔ ≤ ≥ ≠ ∈ ∉ ⊆ ∪ ∩ ∑ ∏ ∫ √ ∞ ≈ ≡ ⟨ ⟩ ⊢ ℕ ℤ ℚ ℝ ℂ α β γ δ ε λ μ π σ φ ω.

Chapter 8. Code

The search service talks to the model through a small Python client. Here is a sketch:

def gcd(a: int, b: int) -> int:
    """Return the greatest common divisor of a and b."""
    while b != 0:
        a, b = b, a % b
    return abs(a)


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def primes_below(limit: int) -> list[int]:
    sieve = [True] * limit
    sieve[0:2] = [False, False]
    for p in range(2, int(limit ** 0.5) + 1):
        if sieve[p]:
            for multiple in range(p * p, limit, p):
                sieve[multiple] = False
    return [n for n, flag in enumerate(sieve) if flag]


class ProofState:
    def __init__(self, goals: list[str], depth: int = 0) -> None:
        self.goals = goals
        self.depth = depth

    def is_solved(self) -> bool:
        return len(self.goals) == 0

    def __repr__(self) -> str:
        return f"ProofState(goals={self.goals!r}, depth={self.depth})"


if __name__ == "__main__":
    print(gcd(252, 198))          # 18
    print(primes_below(50))       # [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
    state = ProofState(["a + b = b + a"])
    print(state.is_solved(), state)

And the same ideas in C++:

#include <cstdint>
#include <vector>

// Returns x^e mod m by repeated squaring.
uint64_t pow_mod(uint64_t x, uint64_t e, uint64_t m) {
  uint64_t result = 1 % m;
  x %= m;
  while (e > 0) {
    if (e & 1) result = static_cast<unsigned __int128>(result) * x % m;
    x = static_cast<unsigned __int128>(x) * x % m;
    e >>= 1;
  }
  return result;
}

std::vector<int> fibonacci(int n) {
  std::vector<int> f{0, 1};
  for (int i = 2; i < n; ++i) f.push_back(f[i - 1] + f[i - 2]);
  return f;
}

A request to the gateway looks like this:

{"model": "prover-7b", "prompt": "theorem foo (n : Nat) : n + 0 = n := by", "max_tokens": 256,
 "temperature": 0.0, "stop": ["\n\n", "theorem"], "stream": true}

and a response chunk like this:

{"id": "cmpl-42", "choices": [{"index": 0, "text": "\n  simp", "finish_reason": null}],
 "usage": {"prompt_tokens": 17, "completion_tokens": 3}}

Configuration values: batch_size=32, max_seq_len=4096, num_heads=32, head_dim=128, rope_theta=500000.0,
learning_rate=3e-4, weight_decay=0.1, warmup_steps=2000, seed=1234, dtype=bfloat16.

Paths and identifiers: /usr/local/lib/libfoo.so.1.2.3, https://example.org/docs/v2/index.html,
user_name, userName, UserName, USER_NAME, x_1, x_2, x_10, __init__, operator<=, a->b, a::b, a.b.c.

Chapter 9. 数学与证明 (mathematics and proof in Chinese)

数学是研究数量、结构、变化以及空间等概念的一门学科。证明是从公理和已知定理出发，通过逻辑推理得出结论的过程。
设 n 是一个正整数，那么 1 + 2 + ... + n = n(n+1)/2。我们用数学归纳法证明这个等式。
当 n = 1 时，左边等于 1，右边等于 1，等式成立。假设当 n = k 时等式成立，那么当 n = k + 1 时，
左边等于 k(k+1)/2 + (k+1) = (k+1)(k+2)/2，所以等式也成立。由数学归纳法，等式对所有正整数成立。
素数是只能被一和它本身整除的大于一的整数。素数有无穷多个。欧几里得给出了第一个证明。
函数、极限、导数和积分是微积分的基本概念。线性代数研究向量空间和线性映射。
定理：任何大于一的整数都可以唯一地分解为素数的乘积，不计因子的顺序。这叫做算术基本定理。

Chapter 10. 数学の証明 (mathematics and proof in Japanese)

数学では、定義から出発して定理を証明します。証明とは、仮定から結論を論理的に導くことです。
自然数 n について、1 から n までの和は n(n+1)/2 です。これは数学的帰納法で示すことができます。
素数は無限に存在します。ユークリッドの証明はとても短く、美しいものです。
関数 f が区間 [a, b] で連続ならば、f は最大値と最小値をとります。これを最大値の定理といいます。
ベクトル空間、線形写像、行列、固有値、固有ベクトルは線形代数の基本的な概念です。
カタカナの例：グループ、ベクトル、マトリックス、アルゴリズム、プログラム、コンピュータ、データ。
ひらがなの例：これは、それは、あれは、どれですか、わかりません、ありがとうございます。

Chapter 11. Exercises with answers

1. Compute 17 \times 23. Answer: 391.
2. Compute 2^{16}. Answer: 65536.
3. Compute 123456789 \times 9. Answer: 1111111101.
4. Find \gcd(1071, 462). Answer: 21.
5. Solve 3x + 7 = 22. Answer: x = 5.
6. Solve x^2 - 5x + 6 = 0. Answer: x = 2 or x = 3.
7. Evaluate \int_0^2 (3x^2 + 1) \, dx. Answer: 10.
8. Evaluate \lim_{x \to 0} \sin(x)/x. Answer: 1.
9. How many edges does the complete graph K_6 have? Answer: 15.
10. What is 0.1 + 0.2 in binary floating point? Answer: 0.30000000000000004.
11. Convert 255 to hexadecimal. Answer: 0xFF.
12. Convert 1010 1101 from binary to decimal. Answer: 173.
13. The year 2024 was a leap year; 1900 was not; 2000 was.
14. Dates: 2024-03-14, 1999-12-31T23:59:59Z, 07/04/1776.
15. Prices: $19.99, €5,00, £1,000,000.00, ¥120.
16. Percentages: 12.5%, 99.9%, -3.2%, +0.01%.
17. Is 561 prime? No: 561 = 3 \cdot 11 \cdot 17, and it is the smallest Carmichael number.
18. What is the 10th triangular number? Answer: 55.
19. Compute 100! modulo 101. Answer: 100, by Wilson's theorem.
20. How many subsets does a set with 10 elements have? Answer: 1024.

Chapter 12. Writing proofs

Good proofs are written for a reader. State what you are about to prove, name the objects you
introduce, and say which earlier result each step uses. Prefer short sentences. When a proof
splits into cases, say how many there are and why they cover everything. When a step is a routine
computation, show enough of it that the reader can check it without paper.

Avoid notation that is defined far away from where it is used. If a symbol changes meaning, say so.
Do not write "clearly" unless the step is truly clear; if it needs a line of argument, give it.
Quantifiers matter: "for every x there is a y" and "there is a y for every x" say different things.

Consider the claim: for all real x, if x^2 < 1 then |x| < 1. Suppose x^2 < 1 but |x| \ge 1. Then
x^2 = |x|^2 \ge 1, a contradiction. So |x| < 1. This is a proof by contradiction, though it is
just as easily phrased as a proof of the contrapositive: if |x| \ge 1 then x^2 \ge 1.

Some common proof patterns:
  - direct proof: assume the hypothesis and derive the conclusion;
  - contrapositive: assume the conclusion fails and show the hypothesis fails;
  - contradiction: assume the statement fails and derive something false;
  - induction: prove a base case and an inductive step;
  - strong induction: assume the claim for all smaller cases at once;
  - construction: exhibit an object with the required property;
  - counting in two ways: count one set twice and equate the answers;
  - extremal principle: consider a largest or smallest object and reason about it.

Proof search explores these patterns mechanically. A state is a list of open goals; a step applies
a tactic to the first goal and yields zero or more new goals. The search keeps a frontier of
states ordered by a score, expands the best one, and stops when some state has no goals left, or
when the budget of expansions runs out. Scores come from the model's log-probabilities:
score(s) = \sum_{i} \log p(t_i | s_{i-1}), summed along the path of tactics t_1, \ldots, t_k.

Table of small values:
n     n^2    n^3     2^n    n!
1     1      1       2      1
2     4      8       4      2
3     9      27      8      6
4     16     64      16     24
5     25     125     32     120
6     36     216     64     720
7     49     343     128    5040
8     64     512     256    40320
9     81     729     512    362880
10    100    1000    1024   3628800

Chapter 13. Graphs

A graph G = (V, E) consists of a set of vertices V and a set of edges E, each edge joining two
vertices. The degree of a vertex is the number of edges at it. The handshake lemma says that the
sum of the degrees equals twice the number of edges, so the number of vertices of odd degree is even.

A tree is a connected graph with no cycles. Every tree with n vertices has exactly n - 1 edges.
Proof sketch: a tree with at least two vertices has a leaf; removing it leaves a tree with one
vertex and one edge fewer, and induction finishes the argument.

Euler's formula for connected planar graphs reads V - E + F = 2. For the cube, V = 8, E = 12 and
F = 6, and indeed 8 - 12 + 6 = 2. For the icosahedron, V = 12, E = 30, F = 20: 12 - 30 + 20 = 2.

A graph is bipartite exactly when it has no cycle of odd length. Breadth-first search from any
vertex either 2-colours the component or finds an odd cycle, which gives an algorithm running in
time O(|V| + |E|). Dijkstra's algorithm finds shortest paths from a source when all edge weights
are non-negative, in O((|V| + |E|) \log |V|) time with a binary heap.

Chapter 14. Inequalities

AM-GM: for non-negative reals a_1, \ldots, a_n,
\frac{a_1 + \cdots + a_n}{n} \ge \sqrt[n]{a_1 \cdots a_n},
with equality exactly when all the a_i are equal. For two numbers this is (a + b)/2 \ge \sqrt{ab},
which follows from (\sqrt{a} - \sqrt{b})^2 \ge 0.

Bernoulli's inequality: (1 + x)^n \ge 1 + nx for every integer n \ge 0 and every real x \ge -1.
The triangle inequality: |a + b| \le |a| + |b|. Jensen's inequality: for convex f,
f(\mathbb{E}[X]) \le \mathbb{E}[f(X)]. Markov's inequality: P(X \ge a) \le \mathbb{E}[X]/a for
non-negative X and a > 0. Chebyshev: P(|X - \mu| \ge k\sigma) \le 1/k^2.

Problem. Show that for positive reals x, y, z with xyz = 1, we have x + y + z \ge 3.
Solution. By AM-GM, (x + y + z)/3 \ge \sqrt[3]{xyz} = 1. \qed

Problem. Prove that n^3 - n is divisible by 6 for every integer n.
Solution. n^3 - n = (n - 1) n (n + 1) is a product of three consecutive integers. Among them one is
divisible by 3 and at least one is even, so the product is divisible by 6. \qed

Problem. Prove that \sqrt{2} is irrational.
Solution. Suppose \sqrt{2} = p/q in lowest terms. Then p^2 = 2q^2, so p is even, say p = 2r. Then
4r^2 = 2q^2, so q^2 = 2r^2 and q is even too, contradicting lowest terms. \qed

Problem. Find all integer solutions of x^2 - y^2 = 15.
Solution. (x - y)(x + y) = 15, and the factor pairs of 15 are (1, 15), (3, 5), (-1, -15),
(-3, -5) and their swaps. They give (x, y) = (8, 7), (4, 1), (-8, -7), (-4, -1), (8, -7), (4, -1),
(-8, 7), (-4, 1). \qed

Chapter 15. Polynomials

A polynomial over a field F is an expression p(x) = a_n x^n + \cdots + a_1 x + a_0 with coefficients
a_i in F. If a_n \neq 0 its degree is n and a_n is its leading coefficient. Polynomials can be added
and multiplied, and the degree of a product is the sum of the degrees. Division with remainder
works as for integers: for p and a nonzero d there are unique q and r with p = qd + r and either
r = 0 or \deg r < \deg d.

Theorem 15.1 (factor theorem). A number c is a root of p exactly when (x - c) divides p(x).

Proof. Divide p by x - c to get p(x) = q(x)(x - c) + r with r a constant. Substituting x = c gives
p(c) = r. So p(c) = 0 if and only if r = 0, that is, if and only if x - c divides p. \qed

Corollary 15.2. A nonzero polynomial of degree n over a field has at most n roots.

For a quadratic a x^2 + b x + c with a \neq 0 the roots are x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}.
The discriminant \Delta = b^2 - 4ac decides their nature over the reals: two roots if \Delta > 0,
one double root if \Delta = 0, and none if \Delta < 0. Vieta's formulas give the sum of the roots
as -b/a and their product as c/a. For example x^2 - 7x + 12 = (x - 3)(x - 4) has roots 3 and 4, with
sum 7 and product 12.

The fundamental theorem of algebra says that every non-constant polynomial with complex
coefficients has a complex root. Consequently it splits into linear factors over \mathbb{C}:
p(x) = a_n (x - z_1)(x - z_2) \cdots (x - z_n). Real polynomials split into real linear factors and
real quadratic factors with negative discriminant, since non-real roots come in conjugate pairs.

Example 15.3. x^4 + 4 = (x^2 + 2x + 2)(x^2 - 2x + 2). This is the Sophie Germain identity
a^4 + 4b^4 = (a^2 + 2ab + 2b^2)(a^2 - 2ab + 2b^2) with a = x and b = 1. It shows that n^4 + 4 is
composite for every integer n > 1.

Chapter 16. Topology of the real line

A subset U of \mathbb{R} is open if every point of U has a neighbourhood (x - \varepsilon, x + \varepsilon)
contained in U. A set is closed if its complement is open. Arbitrary unions and finite intersections
of open sets are open; arbitrary intersections and finite unions of closed sets are closed.

A subset K of \mathbb{R} is compact if every open cover of K has a finite subcover. The Heine-Borel
theorem says that a subset of \mathbb{R}^n is compact exactly when it is closed and bounded. The
Bolzano-Weierstrass theorem says that every bounded sequence of real numbers has a convergent
subsequence.

Theorem 16.1 (extreme value theorem). A continuous function on a compact set attains its maximum
and its minimum.

Proof. Let f : K \to \mathbb{R} be continuous with K compact. The image f(K) is compact, hence closed
and bounded. A closed and bounded non-empty subset of \mathbb{R} contains its supremum and its
infimum, and these are the maximum and the minimum of f. \qed

A sequence (x_n) is Cauchy if for every \varepsilon > 0 there is an N with |x_m - x_n| < \varepsilon
for all m, n \ge N. In \mathbb{R} every Cauchy sequence converges; this property, completeness, is
what distinguishes the reals from the rationals. The sequence 1, 1.4, 1.41, 1.414, 1.4142, 1.41421,
... of decimal truncations of \sqrt{2} is Cauchy in \mathbb{Q} but has no limit there.

Chapter 17. Algorithms described in prose

Binary search finds a target in a sorted array of length n by comparing it with the middle element
and discarding the half that cannot contain it. After k steps at most n / 2^k candidates remain, so
at most \lceil \log_2 (n + 1) \rceil comparisons are needed. Searching a sorted array of one million
entries takes at most 20 comparisons.

Merge sort splits an array in two halves, sorts each recursively, and merges the sorted halves in
linear time. Its running time satisfies T(n) = 2T(n/2) + O(n), so T(n) = O(n \log n). Any sorting
algorithm based only on comparisons needs \Omega(n \log n) comparisons in the worst case, because
a decision tree with n! leaves has height at least \log_2 n!, and \log_2 n! = \Theta(n \log n).

Dynamic programming solves a problem by combining the solutions of overlapping subproblems. To count
the lattice paths from (0, 0) to (m, n) using unit steps right and up, let P(i, j) be the number of
paths to (i, j). Then P(i, 0) = P(0, j) = 1 and P(i, j) = P(i - 1, j) + P(i, j - 1), and the answer
is \binom{m+n}{m}. For m = n = 10 there are 184756 paths.

The greedy algorithm for making change with coins of 1, 5, 10 and 25 cents always uses the fewest
coins, but with coins of 1, 3 and 4 it fails: for 6 cents it picks 4 + 1 + 1, while 3 + 3 is better.

def binary_search(items: list[int], target: int) -> int:
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(items) and items[lo] == target else -1


def merge_sort(xs: list[int]) -> list[int]:
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    left, right = merge_sort(xs[:mid]), merge_sort(xs[mid:])
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def lattice_paths(m: int, n: int) -> int:
    table = [[1] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            table[i][j] = table[i - 1][j] + table[i][j - 1]
    return table[m][n]

Chapter 18. More formal proofs

theorem mul_self_nonneg' (a : ℤ) : 0 ≤ a * a := by
  rcases le_total 0 a with h | h
  · exact mul_nonneg h h
  · exact mul_nonneg_of_nonpos_of_nonpos h h

theorem even_add_even {m n : ℕ} (hm : Even m) (hn : Even n) : Even (m + n) := by
  obtain ⟨a, rfl⟩ := hm
  obtain ⟨b, rfl⟩ := hn
  exact ⟨a + b, by ring⟩

theorem dvd_sub' {a b c : ℤ} (h₁ : a ∣ b) (h₂ : a ∣ c) : a ∣ b - c := by
  obtain ⟨k, rfl⟩ := h₁
  obtain ⟨l, rfl⟩ := h₂
  exact ⟨k - l, by ring⟩

theorem sq_sub_sq' (a b : ℝ) : a ^ 2 - b ^ 2 = (a + b) * (a - b) := by
  ring

theorem lt_of_sq_lt {x y : ℝ} (hx : 0 ≤ x) (hy : 0 ≤ y) (h : x ^ 2 < y ^ 2) : x < y := by
  nlinarith [sq_nonneg (x - y), sq_nonneg (x + y)]

example : ∀ n : ℕ, n < 2 ^ n := by
  intro n
  induction n with
  | zero => norm_num
  | succ k ih =>
    rw [pow_succ]
    omega

example (f : ℕ → ℕ) (hf : ∀ x y, x ≤ y → f x ≤ f y) : f 3 ≤ f 5 := by
  apply hf
  norm_num

theorem card_powerset' (s : Finset ℕ) : s.powerset.card = 2 ^ s.card := by
  simp [Finset.card_powerset]

A failed step prints an error instead of new goals:
error: linarith failed to find a contradiction
case a
x y : ℝ
h : x < y
⊢ False

and an unknown name prints:
error: unknown identifier 'Nat.lt_irrefl''

Chapter 19. Number theory, continued

Euler's totient \varphi(n) counts the integers in 1..n that are coprime to n. It is multiplicative:
\varphi(mn) = \varphi(m)\varphi(n) when \gcd(m, n) = 1, and \varphi(p^k) = p^k - p^{k-1} for a prime
power. Hence \varphi(n) = n \prod_{p \mid n} (1 - 1/p). Examples: \varphi(1) = 1, \varphi(9) = 6,
\varphi(10) = 4, \varphi(12) = 4, \varphi(36) = 12, \varphi(97) = 96, \varphi(100) = 40.

Theorem 19.1 (Euler). If \gcd(a, n) = 1 then a^{\varphi(n)} \equiv 1 \pmod{n}.

The last two digits of 7^{2024} can be found this way: \varphi(100) = 40 and 2024 = 50 \cdot 40 + 24,
so 7^{2024} \equiv 7^{24} (mod 100). Since 7^4 = 2401 \equiv 1 (mod 100), we get 7^{24} \equiv 1, and
the last two digits are 01.

A number is perfect if it equals the sum of its proper divisors: 6 = 1 + 2 + 3, 28 = 1 + 2 + 4 + 7 + 14,
496 and 8128 are the next ones. Euclid showed that 2^{p-1}(2^p - 1) is perfect whenever 2^p - 1 is
prime, and Euler showed that every even perfect number has this form. Whether an odd perfect number
exists is still unknown.

Quadratic residues: an integer a coprime to an odd prime p is a quadratic residue modulo p if
x^2 \equiv a (mod p) has a solution. The Legendre symbol (a/p) is 1 for residues and -1 otherwise,
and Euler's criterion gives (a/p) \equiv a^{(p-1)/2} (mod p). Modulo 11 the residues are 1, 3, 4, 5
and 9, the squares of 1, 2, 3, 4 and 5.

Pell's equation x^2 - 2y^2 = 1 has the solutions (3, 2), (17, 12), (99, 70), (577, 408), and each
comes from the previous one by (x, y) \mapsto (3x + 4y, 2x + 3y).

Chapter 20. Sequences and recurrences

A linear recurrence a_{n+2} = p a_{n+1} + q a_n is solved through its characteristic equation
t^2 = p t + q. If the roots r and s are distinct, a_n = A r^n + B s^n for constants fixed by a_0 and
a_1. For the Fibonacci numbers, r and s are (1 \pm \sqrt{5})/2, which gives Binet's formula
F_n = (\varphi^n - \psi^n)/\sqrt{5} with \psi = (1 - \sqrt{5})/2.

The Catalan numbers 1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862 count balanced strings of parentheses,
binary trees, triangulations of polygons and many other things. They satisfy
C_{n+1} = \sum_{i=0}^{n} C_i C_{n-i} and C_n = \frac{1}{n+1}\binom{2n}{n}.

Generating functions turn recurrences into algebra. If A(x) = \sum_{n \ge 0} a_n x^n and
a_n = 2 a_{n-1} + 1 with a_0 = 0 (the Tower of Hanoi), then A(x) = 2x A(x) + x/(1 - x), so
A(x) = x / ((1 - x)(1 - 2x)) = 1/(1 - 2x) - 1/(1 - x), and a_n = 2^n - 1. Moving 64 discs takes
18446744073709551615 moves.

Chapter 21. 更多的中文内容

几何学研究空间中图形的形状、大小和位置关系。三角形的内角和等于一百八十度。
勾股定理：直角三角形两条直角边的平方和等于斜边的平方，即 a^2 + b^2 = c^2。
例如，三边长为 3、4、5 的三角形是直角三角形，因为 9 + 16 = 25。
概率论研究随机现象的数量规律。掷一枚均匀的硬币，正面朝上的概率是二分之一。
数列 1, 1, 2, 3, 5, 8, 13 叫做斐波那契数列，每一项等于前两项之和。
证明的每一步都必须有根据：定义、公理，或者已经证明过的定理。
如果一个命题对所有的自然数都成立，我们常常用归纳法来证明它。
计算机可以帮助我们检查证明是否正确，这就是形式化证明的意义。

Chapter 22. 日本語の続き

三角形の内角の和は百八十度です。ピタゴラスの定理は直角三角形について成り立ちます。
確率論では、サイコロを一回投げて一の目が出る確率は六分の一です。
フィボナッチ数列は、前の二つの項を足して次の項を作ります。
形式的な証明では、コンピュータが各ステップの正しさを確認します。
この定理の証明は、帰納法と背理法を組み合わせたものです。
テスト、モデル、トークン、エンジン、スケジューラ、キャッシュ、メモリ、サーバー。

Chapter 23. Logs and configuration

2024-05-01 12:00:00.123 INFO  engine: loaded model prover-7b (32 layers, 4096 hidden, 32000 vocab)
2024-05-01 12:00:00.456 INFO  scheduler: max_batch=64 max_tokens=8192 kv_blocks=12288 block_size=16
2024-05-01 12:00:01.002 WARN  gateway: request 7f3a9c timed out after 30000 ms
2024-05-01 12:00:01.118 ERROR search: expansion failed: goal "⊢ a + 0 = a" tactic `simp` error code 2
2024-05-01 12:00:02.500 INFO  metrics: tokens/s=1834.2 p50_latency_ms=41.7 p99_latency_ms=212.9

[engine]
model_path = "/models/prover-7b"
dtype = "bf16"
max_seq_len = 4096
kv_cache_fraction = 0.9

[search]
beam_width = 8
max_expansions = 600
temperature = 0.6
timeout_s = 120

SELECT id, theorem, status, COUNT(*) AS attempts
FROM proofs
WHERE status IN ('proved', 'failed') AND created_at >= '2024-01-01'
GROUP BY id, theorem, status
ORDER BY attempts DESC
LIMIT 20;

$ ./prover --config prover.toml --theorem "add_comm" --budget 600 --seed 42
proved add_comm in 3 steps (0.84 s, 212 tokens)

Whitespace test lines follow: tabs	between	words, trailing spaces   
multiple   spaces   inside, and blank lines.



End of the built-in corpus.
)corpus";

} // namespace

std::string_view default_training_corpus() { return corpus; }

} // namespace proofmesh::engine
