"""Author the bundled function tasks: prompts, references, test inputs and a plausible
wrong answer for each, written here; expected values are computed by running the
reference, never typed.

    python scripts/author_function_tasks.py

Rewrites ``taskgym/envs/code/data/functions.jsonl`` (tasks with ids defined here are
replaced, others kept in place) and ``tests/data/wrong_answers.jsonl`` (the wrong answers,
which ``tests/test_bundled_tasks.py`` proves the hidden tests reject). Run it after
editing a task below, and commit both files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TASKS_FILE = ROOT / "taskgym" / "envs" / "code" / "data" / "functions.jsonl"
WRONG_FILE = ROOT / "tests" / "data" / "wrong_answers.jsonl"


def task(
    id: str,
    prompt: str,
    entry_point: str,
    solution: str,
    wrong: str,
    examples: list[list[Any]],
    tests: list[list[Any]],
) -> dict[str, Any]:
    return {
        "id": id,
        "prompt": prompt,
        "entry_point": entry_point,
        "solution": solution.strip() + "\n",
        "wrong": wrong.strip() + "\n",
        "examples": examples,
        "tests": tests,
    }


TASKS = [
    # -- strings and lists ---------------------------------------------------------------
    task(
        "count-vowels",
        "Write `count_vowels(s)`: how many letters of `s` are vowels (a, e, i, o, u, in "
        "either case).",
        "count_vowels",
        "def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)",
        "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)",
        [["hello"]],
        [["AEIOU"], [""], ["rhythm"], ["Programming In Python"], ["xyz AEx"]],
    ),
    task(
        "capitalize-words",
        "Write `capitalize_words(s)`: `s` with the first character of every word upper-cased "
        "and the rest of each word left as it is. Words are separated by single spaces, "
        "which are kept as they are (two spaces in a row enclose an empty word).",
        "capitalize_words",
        "def capitalize_words(s):\n    return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))",
        "def capitalize_words(s):\n    return s.title()",
        [["hello world"]],
        [["hELLO wORLD"], ["it's a test"], ["a  b"], [""], ["x"], ["mcDonald farm"]],
    ),
    task(
        "remove-duplicates",
        "Write `remove_duplicates(xs)`: the items of `xs` without repeats, each kept at its "
        "first occurrence, in the original order.",
        "remove_duplicates",
        "def remove_duplicates(xs):\n    seen = set()\n    out = []\n    for x in xs:\n"
        "        if x not in seen:\n            seen.add(x)\n            out.append(x)\n"
        "    return out",
        "def remove_duplicates(xs):\n    return list(set(xs))",
        [[[1, 2, 1, 3]]],
        [[[3, 1, 3, 2, 1]], [[]], [[5, 5, 5]], [["b", "a", "b", "c"]], [[10, 2, 33, 2, 10, 4]]],
    ),
    task(
        "second-largest",
        "Write `second_largest(xs)`: the second largest distinct value in `xs`, or None if "
        "there are fewer than two distinct values.",
        "second_largest",
        "def second_largest(xs):\n    distinct = sorted(set(xs))\n"
        "    return distinct[-2] if len(distinct) >= 2 else None",
        "def second_largest(xs):\n    return sorted(xs)[-2] if len(xs) >= 2 else None",
        [[[4, 1, 3]]],
        [[[5, 5, 4]], [[7]], [[]], [[2, 2]], [[-1, -5, -3]], [[1, 9, 9, 8, 9]]],
    ),
    task(
        "chunk-list",
        "Write `chunk(xs, n)`: `xs` cut into consecutive lists of `n` items (n >= 1); the last "
        "list holds what is left and may be shorter.",
        "chunk",
        "def chunk(xs, n):\n    return [xs[i:i + n] for i in range(0, len(xs), n)]",
        "def chunk(xs, n):\n    return [xs[i:i + n] for i in range(0, len(xs) - n + 1, n)]",
        [[[1, 2, 3, 4], 2]],
        [[[1, 2, 3, 4, 5], 2], [[], 3], [[1], 5], [[1, 2, 3], 1], [[1, 2, 3, 4, 5, 6, 7], 3]],
    ),
    task(
        "rotate-list",
        "Write `rotate(xs, k)`: `xs` rotated right by `k` places (k >= 0, possibly larger "
        "than the list); an empty list stays empty.",
        "rotate",
        "def rotate(xs, k):\n    if not xs:\n        return []\n    k %= len(xs)\n"
        "    return xs[-k:] + xs[:-k] if k else list(xs)",
        "def rotate(xs, k):\n    return xs[-k:] + xs[:-k] if k else list(xs)",
        [[[1, 2, 3, 4], 1]],
        [[[1, 2, 3, 4], 5], [[1, 2, 3], 0], [[], 4], [[1, 2, 3], 3], [[1, 2, 3, 4, 5], 7]],
    ),
    task(
        "count-words",
        "Write `count_words(s)`: a dict from each word to how many times it occurs, where "
        "words are runs of letters a-z after lower-casing `s` (anything else separates them).",
        "count_words",
        "import re\n\ndef count_words(s):\n    counts = {}\n"
        "    for w in re.findall('[a-z]+', s.lower()):\n        counts[w] = counts.get(w, 0) + 1\n"
        "    return counts",
        "def count_words(s):\n    counts = {}\n    for w in s.lower().split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n    return counts",
        [["the cat the hat"]],
        [["Hello, hello world!"], [""], ["it's-a dog's life"], ["A a A b"], ["x1y2 x"]],
    ),
    task(
        "is-anagram",
        "Write `is_anagram(a, b)`: True if `a` and `b` hold the same letters the same number "
        "of times, ignoring case and spaces.",
        "is_anagram",
        "def is_anagram(a, b):\n    def key(s):\n        return sorted(s.replace(' ', '').lower())\n"
        "    return key(a) == key(b)",
        "def is_anagram(a, b):\n    return sorted(a.replace(' ', '')) == sorted(b.replace(' ', ''))",
        [["listen", "silent"]],
        [
            ["Dormitory", "dirty room"],
            ["abc", "abd"],
            ["", ""],
            ["aab", "abb"],
            ["School master", "The classroom"],
        ],
    ),
    task(
        "run-length-encode",
        "Write `rle(s)`: the run-length encoding of `s`: each run of one character as that "
        "character followed by the run's length, e.g. 'aaab' -> 'a3b1'.",
        "rle",
        "def rle(s):\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n"
        "        while j < len(s) and s[j] == s[i]:\n            j += 1\n"
        "        out.append(f'{s[i]}{j - i}')\n        i = j\n    return ''.join(out)",
        "def rle(s):\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n"
        "        while j < len(s) and s[j] == s[i]:\n            j += 1\n"
        "        out.append(s[i] + (str(j - i) if j - i > 1 else ''))\n        i = j\n"
        "    return ''.join(out)",
        [["aaabcc"]],
        [["abc"], [""], ["zzzzzzzzzzzz"], ["aabbaa"], ["x"]],
    ),
    task(
        "flatten-nested",
        "Write `flatten(xs)`: the non-list items of a list nested to any depth, in order.",
        "flatten",
        "def flatten(xs):\n    out = []\n    for x in xs:\n        if isinstance(x, list):\n"
        "            out.extend(flatten(x))\n        else:\n            out.append(x)\n    return out",
        "def flatten(xs):\n    out = []\n    for x in xs:\n"
        "        out.extend(x if isinstance(x, list) else [x])\n    return out",
        [[[1, [2, 3], 4]]],
        [
            [[1, [2, [3, [4]]]]],
            [[]],
            [[[], [[]]]],
            [["a", ["b"], [["c"]]]],
            [[[1, 2], [3, [4, 5]]]],
        ],
    ),
    task(
        "caesar-shift",
        "Write `caesar(s, k)`: `s` with every ASCII letter moved `k` places along the alphabet "
        "(wrapping around, k may be negative or larger than 26), keeping its case; other "
        "characters unchanged.",
        "caesar",
        "def caesar(s, k):\n    out = []\n    for c in s:\n        if 'a' <= c <= 'z':\n"
        "            out.append(chr((ord(c) - 97 + k) % 26 + 97))\n        elif 'A' <= c <= 'Z':\n"
        "            out.append(chr((ord(c) - 65 + k) % 26 + 65))\n        else:\n"
        "            out.append(c)\n    return ''.join(out)",
        "def caesar(s, k):\n    return ''.join(chr((ord(c) - 97 + k) % 26 + 97) if c.isalpha() else c"
        " for c in s)",
        [["abc", 1]],
        [["Hello, World!", 3], ["xyz", 3], ["abc", -1], ["Zz", 27], ["", 5]],
    ),
    task(
        "longest-common-prefix",
        "Write `common_prefix(words)`: the longest string that every word in `words` starts "
        "with ('' for an empty list).",
        "common_prefix",
        "def common_prefix(words):\n    if not words:\n        return ''\n    prefix = words[0]\n"
        "    for w in words[1:]:\n        while not w.startswith(prefix):\n"
        "            prefix = prefix[:-1]\n    return prefix",
        "def common_prefix(words):\n    if len(words) < 2:\n        return words[0] if words else ''\n"
        "    a, b = words[0], words[1]\n    i = 0\n    while i < min(len(a), len(b)) and a[i] == b[i]:\n"
        "        i += 1\n    return a[:i]",
        [[["flower", "flow", "flight"]]],
        [
            [["interview", "internet", "interval", "in"]],
            [[]],
            [["alone"]],
            [["dog", "racecar"]],
            [["ab", "ab", "a"]],
        ],
    ),
    task(
        "digital-root",
        "Write `digital_root(n)`: for n >= 0, sum the decimal digits of `n` again and again "
        "until one digit is left, and return it.",
        "digital_root",
        "def digital_root(n):\n    while n >= 10:\n        n = sum(int(d) for d in str(n))\n    return n",
        "def digital_root(n):\n    return sum(int(d) for d in str(n))",
        [[38]],
        [[0], [9], [99999], [123456789], [10]],
    ),
    task(
        "sum-of-multiples",
        "Write `sum_multiples(n)`: the sum of the natural numbers below `n` that are "
        "multiples of 3 or 5.",
        "sum_multiples",
        "def sum_multiples(n):\n    return sum(i for i in range(n) if i % 3 == 0 or i % 5 == 0)",
        "def sum_multiples(n):\n    return sum(range(0, n, 3)) + sum(range(0, n, 5))",
        [[10]],
        [[16], [1], [0], [1000], [31]],
    ),
    task(
        "pascal-row",
        "Write `pascal_row(n)`: row `n` of Pascal's triangle as a list (row 0 is [1]).",
        "pascal_row",
        "def pascal_row(n):\n    row = [1]\n    for _ in range(n):\n"
        "        row = [a + b for a, b in zip([0] + row, row + [0])]\n    return row",
        "def pascal_row(n):\n    row = [1]\n    for _ in range(n - 1):\n"
        "        row = [a + b for a, b in zip([0] + row, row + [0])]\n    return row",
        [[2]],
        [[0], [1], [5], [10], [3]],
    ),
    # -- maps, sorting, arithmetic -----------------------------------------------------------
    task(
        "roman-to-int",
        "Write `roman_to_int(s)`: the value of the Roman numeral `s` (I, V, X, L, C, D, M, "
        "with the subtractive forms IV, IX, XL, XC, CD, CM).",
        "roman_to_int",
        "def roman_to_int(s):\n    v = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}\n"
        "    total = 0\n    for i, c in enumerate(s):\n"
        "        if i + 1 < len(s) and v[c] < v[s[i + 1]]:\n            total -= v[c]\n"
        "        else:\n            total += v[c]\n    return total",
        "def roman_to_int(s):\n    v = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}\n"
        "    return sum(v[c] for c in s)",
        [["XII"]],
        [["IV"], ["MCMXCIV"], ["LVIII"], ["MMMCMXCIX"], ["XL"]],
    ),
    task(
        "int-to-roman",
        "Write `int_to_roman(n)`: the Roman numeral for 1 <= n <= 3999, using the subtractive "
        "forms (IV, IX, XL, XC, CD, CM).",
        "int_to_roman",
        "def int_to_roman(n):\n    parts = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'),\n"
        "             (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]\n"
        "    out = ''\n    for value, numeral in parts:\n        while n >= value:\n"
        "            out += numeral\n            n -= value\n    return out",
        "def int_to_roman(n):\n    parts = [(1000, 'M'), (500, 'D'), (100, 'C'), (50, 'L'), (10, 'X'), (5, 'V'), (1, 'I')]\n"
        "    out = ''\n    for value, numeral in parts:\n        while n >= value:\n"
        "            out += numeral\n            n -= value\n    return out",
        [[12]],
        [[4], [1994], [3999], [58], [40]],
    ),
    task(
        "valid-brackets",
        "Write `valid_brackets(s)`: True if the brackets ()[]{} in `s` are balanced and "
        "properly nested (other characters are ignored).",
        "valid_brackets",
        "def valid_brackets(s):\n    pairs = {')': '(', ']': '[', '}': '{'}\n    stack = []\n"
        "    for c in s:\n        if c in '([{':\n            stack.append(c)\n"
        "        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n"
        "                return False\n    return not stack",
        "def valid_brackets(s):\n    return all(s.count(a) == s.count(b) for a, b in ('()', '[]', '{}'))",
        [["(a[b]{c})"]],
        [["([)]"], [")("], [""], ["((("], ["{[()()]}x"], ["]"]],
    ),
    task(
        "group-anagrams",
        "Write `group_anagrams(words)`: the words grouped with their anagrams; each group "
        "sorted alphabetically, and the groups sorted by their first word.",
        "group_anagrams",
        "def group_anagrams(words):\n    groups = {}\n    for w in words:\n"
        "        groups.setdefault(''.join(sorted(w)), []).append(w)\n"
        "    return sorted(sorted(g) for g in groups.values())",
        "def group_anagrams(words):\n    groups = {}\n    for w in words:\n"
        "        groups.setdefault(len(w), []).append(w)\n"
        "    return sorted(sorted(g) for g in groups.values())",
        [[["eat", "tea", "tan", "ate", "nat", "bat"]]],
        [
            [["abc", "bca", "xyz", "zyx", "cab"]],
            [[]],
            [["a"]],
            [["ab", "ba", "cd"]],
            [["listen", "silent", "enlist", "google"]],
        ],
    ),
    task(
        "top-k-frequent",
        "Write `top_k(xs, k)`: the `k` most frequent values in `xs`, most frequent first; "
        "among values as frequent, the smaller comes first.",
        "top_k",
        "from collections import Counter\n\ndef top_k(xs, k):\n"
        "    counts = Counter(xs)\n    return sorted(counts, key=lambda x: (-counts[x], x))[:k]",
        "from collections import Counter\n\ndef top_k(xs, k):\n"
        "    return [x for x, _ in Counter(xs).most_common(k)]",
        [[[1, 1, 1, 2, 2, 3], 2]],
        [[[3, 3, 1, 1, 2], 2], [[5, 4, 4, 5, 6], 1], [[], 3], [[7], 1], [[9, 8, 7, 8, 9, 7], 3]],
    ),
    task(
        "spiral-order",
        "Write `spiral(matrix)`: the items of a rectangular matrix (a list of rows) in "
        "clockwise spiral order from the top-left.",
        "spiral",
        "def spiral(matrix):\n    out = []\n    m = [list(r) for r in matrix]\n    while m:\n"
        "        out += m.pop(0)\n        m = [list(r) for r in zip(*m)][::-1]\n    return out",
        "def spiral(matrix):\n    out = []\n    for i, row in enumerate(matrix):\n"
        "        out += row if i % 2 == 0 else row[::-1]\n    return out",
        [[[[1, 2], [3, 4]]]],
        [
            [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
            [[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]],
            [[]],
            [[[1], [2], [3]]],
            [[[1, 2, 3]]],
        ],
    ),
    task(
        "insert-position",
        "Write `insert_position(xs, x)`: the index at which `x` would be inserted into the "
        "sorted list `xs` to keep it sorted, before any items equal to `x`.",
        "insert_position",
        "def insert_position(xs, x):\n    lo, hi = 0, len(xs)\n    while lo < hi:\n"
        "        mid = (lo + hi) // 2\n        if xs[mid] < x:\n            lo = mid + 1\n"
        "        else:\n            hi = mid\n    return lo",
        "import bisect\n\ndef insert_position(xs, x):\n    return bisect.bisect_right(xs, x)",
        [[[1, 3, 5], 4]],
        [[[1, 3, 3, 3, 5], 3], [[], 7], [[2, 4], 1], [[2, 4], 9], [[1, 1, 1], 1]],
    ),
    task(
        "prime-factors",
        "Write `prime_factors(n)`: the prime factors of n >= 2 in increasing order, each as "
        "many times as it divides `n`.",
        "prime_factors",
        "def prime_factors(n):\n    out = []\n    d = 2\n    while d * d <= n:\n"
        "        while n % d == 0:\n            out.append(d)\n            n //= d\n        d += 1\n"
        "    if n > 1:\n        out.append(n)\n    return out",
        "def prime_factors(n):\n    out = []\n    d = 2\n    while d * d <= n:\n"
        "        if n % d == 0:\n            out.append(d)\n            while n % d == 0:\n"
        "                n //= d\n        d += 1\n    if n > 1:\n        out.append(n)\n    return out",
        [[12]],
        [[2], [360], [97], [1024], [999983 * 2]],
    ),
    task(
        "next-permutation",
        "Write `next_permutation(xs)`: the next arrangement of `xs` in lexicographic order, "
        "or the items sorted ascending if `xs` is the last one.",
        "next_permutation",
        "def next_permutation(xs):\n    a = list(xs)\n    i = len(a) - 2\n"
        "    while i >= 0 and a[i] >= a[i + 1]:\n        i -= 1\n    if i < 0:\n        return sorted(a)\n"
        "    j = len(a) - 1\n    while a[j] <= a[i]:\n        j -= 1\n    a[i], a[j] = a[j], a[i]\n"
        "    a[i + 1:] = reversed(a[i + 1:])\n    return a",
        "def next_permutation(xs):\n    a = list(xs)\n    if len(a) < 2:\n        return a\n"
        "    a[-1], a[-2] = a[-2], a[-1]\n    return a",
        [[[1, 2, 3]]],
        [[[3, 2, 1]], [[1, 3, 2]], [[1, 1, 5]], [[]], [[2, 3, 1]], [[1, 5, 8, 4, 7, 6, 5, 3, 1]]],
    ),
    task(
        "compress-ranges",
        "Write `ranges(xs)`: a sorted list of distinct integers summarised as strings: 'a-b' "
        "for each run of consecutive integers from a to b (a < b), and 'a' for a lone one.",
        "ranges",
        "def ranges(xs):\n    out = []\n    i = 0\n    while i < len(xs):\n        j = i\n"
        "        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:\n            j += 1\n"
        "        out.append(str(xs[i]) if i == j else f'{xs[i]}-{xs[j]}')\n        i = j + 1\n"
        "    return out",
        "def ranges(xs):\n    out = []\n    i = 0\n    while i < len(xs):\n        j = i\n"
        "        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:\n            j += 1\n"
        "        out.append(f'{xs[i]}-{xs[j]}')\n        i = j + 1\n    return out",
        [[[1, 2, 3, 5]]],
        [[[0, 1, 2, 4, 5, 7]], [[]], [[3]], [[-3, -2, -1, 1]], [[1, 3, 5]]],
    ),
    task(
        "word-wrap",
        "Write `wrap(text, width)`: the words of `text` (split on whitespace) laid out "
        "greedily in lines of at most `width` characters, words separated by one space; a "
        "word longer than `width` gets a line of its own. Return the list of lines.",
        "wrap",
        "def wrap(text, width):\n    lines = []\n    line = ''\n    for word in text.split():\n"
        "        if line and len(line) + 1 + len(word) <= width:\n            line += ' ' + word\n"
        "        else:\n            if line:\n                lines.append(line)\n            line = word\n"
        "    if line:\n        lines.append(line)\n    return lines",
        "def wrap(text, width):\n    lines = []\n    line = ''\n    for word in text.split():\n"
        "        if line and len(line) + 1 + len(word) < width:\n            line += ' ' + word\n"
        "        else:\n            if line:\n                lines.append(line)\n            line = word\n"
        "    if line:\n        lines.append(line)\n    return lines",
        [["the quick brown fox", 10]],
        [
            ["aaa bb cc", 6],
            ["", 5],
            ["extraordinary is long", 5],
            ["a b c d e", 3],
            ["one two three four five six", 9],
        ],
    ),
    task(
        "unique-emails",
        "Write `unique_emails(emails)`: how many distinct addresses receive mail, where in "
        "the local part (before '@') dots are ignored and everything from a '+' on is "
        "dropped, and the domain is case-insensitive.",
        "unique_emails",
        "def unique_emails(emails):\n    seen = set()\n    for e in emails:\n"
        "        local, domain = e.split('@')\n        local = local.split('+')[0].replace('.', '')\n"
        "        seen.add(local + '@' + domain.lower())\n    return len(seen)",
        "def unique_emails(emails):\n    seen = set()\n    for e in emails:\n"
        "        local, domain = e.split('@')\n        seen.add(local.replace('.', '') + '@' + domain.lower())\n"
        "    return len(seen)",
        [[["a.b@x.com", "ab@x.com"]]],
        [
            [["a+1@x.com", "a+2@x.com", "a@X.com"]],
            [[]],
            [["a@x.com", "a@y.com"]],
            [["a.b+c.d@x.com", "ab@x.com", "a.b@x.org"]],
            [["Ab@x.com", "ab@x.com"]],
        ],
    ),
    task(
        "balance-point",
        "Write `balance_point(xs)`: the smallest index i such that sum(xs[:i]) == "
        "sum(xs[i:]), or -1 if there is none.",
        "balance_point",
        "def balance_point(xs):\n    total = sum(xs)\n    left = 0\n    for i in range(len(xs) + 1):\n"
        "        if 2 * left == total:\n            return i\n        if i < len(xs):\n"
        "            left += xs[i]\n    return -1",
        "def balance_point(xs):\n    total = sum(xs)\n    left = 0\n    for i, x in enumerate(xs):\n"
        "        left += x\n        if 2 * left >= total:\n            return i + 1\n    return -1",
        [[[1, 2, 3]]],
        [[[1, 2, 4]], [[]], [[0, 0]], [[5, -5, 5, -5]], [[2, 3, 1, 4]], [[-1, 1, 3]]],
    ),
    task(
        "matrix-multiply",
        "Write `matmul(a, b)`: the product of the matrices `a` (n x m) and `b` (m x p), as a "
        "list of n rows.",
        "matmul",
        "def matmul(a, b):\n    return [[sum(a[i][k] * b[k][j] for k in range(len(b)))\n"
        "             for j in range(len(b[0]))] for i in range(len(a))]",
        "def matmul(a, b):\n    return [[sum(a[i][k] * b[j][k] for k in range(len(b)))\n"
        "             for j in range(len(b[0]))] for i in range(len(a))]",
        [[[[1, 0], [0, 1]], [[5, 6], [7, 8]]]],
        [
            [[[1, 2], [3, 4]], [[5, 6], [7, 8]]],
            [[[2]], [[3]]],
            [[[1, 2, 3]], [[1], [2], [3]]],
            [[[0, 1], [1, 0]], [[1, 2], [3, 4]]],
        ],
    ),
    task(
        "max-subarray",
        "Write `max_subarray(xs)`: the largest sum of a non-empty run of consecutive items of "
        "the non-empty list `xs`.",
        "max_subarray",
        "def max_subarray(xs):\n    best = cur = xs[0]\n    for x in xs[1:]:\n"
        "        cur = max(x, cur + x)\n        best = max(best, cur)\n    return best",
        "def max_subarray(xs):\n    best = cur = 0\n    for x in xs:\n"
        "        cur = max(0, cur + x)\n        best = max(best, cur)\n    return best",
        [[[-2, 1, -3, 4, -1, 2, 1, -5, 4]]],
        [[[-3, -1, -2]], [[5]], [[-1]], [[1, 2, 3]], [[2, -1, 2, -10, 3]]],
    ),
    task(
        "stock-profit",
        "Write `max_profit(prices)`: the most one can gain by buying on one day and selling "
        "on a later day, or 0 if no gain is possible.",
        "max_profit",
        "def max_profit(prices):\n    best = 0\n    low = float('inf')\n    for p in prices:\n"
        "        low = min(low, p)\n        best = max(best, p - low)\n    return best",
        "def max_profit(prices):\n    return max(prices) - min(prices) if prices else 0",
        [[[7, 1, 5, 3, 6, 4]]],
        [[[7, 6, 4, 3, 1]], [[]], [[3]], [[2, 4, 1]], [[3, 8, 1, 5]]],
    ),
    task(
        "evaluate-rpn",
        "Write `eval_rpn(tokens)`: the value of an expression in reverse Polish notation; "
        "tokens are integers and + - * /, where / divides integers rounding toward zero.",
        "eval_rpn",
        "def eval_rpn(tokens):\n    stack = []\n    for t in tokens:\n        if t in '+-*/' and len(t) == 1:\n"
        "            b, a = stack.pop(), stack.pop()\n            if t == '+':\n                stack.append(a + b)\n"
        "            elif t == '-':\n                stack.append(a - b)\n            elif t == '*':\n"
        "                stack.append(a * b)\n            else:\n                q = abs(a) // abs(b)\n"
        "                stack.append(q if (a < 0) == (b < 0) else -q)\n        else:\n"
        "            stack.append(int(t))\n    return stack[0]",
        "def eval_rpn(tokens):\n    stack = []\n    for t in tokens:\n        if t in '+-*/' and len(t) == 1:\n"
        "            b, a = stack.pop(), stack.pop()\n            if t == '+':\n                stack.append(a + b)\n"
        "            elif t == '-':\n                stack.append(a - b)\n            elif t == '*':\n"
        "                stack.append(a * b)\n            else:\n                stack.append(a // b)\n"
        "        else:\n            stack.append(int(t))\n    return stack[0]",
        [[["2", "1", "+", "3", "*"]]],
        [
            [["4", "13", "5", "/", "+"]],
            [["-7", "2", "/"]],
            [["7", "-2", "/"]],
            [["10", "6", "9", "3", "+", "-11", "*", "/", "*", "17", "+", "5", "+"]],
            [["5"]],
        ],
    ),
    # -- dynamic programming and graphs ----------------------------------------------------
    task(
        "edit-distance",
        "Write `edit_distance(a, b)`: the least number of single-character insertions, "
        "deletions and substitutions that turn `a` into `b`.",
        "edit_distance",
        "def edit_distance(a, b):\n    prev = list(range(len(b) + 1))\n    for i, ca in enumerate(a, 1):\n"
        "        cur = [i]\n        for j, cb in enumerate(b, 1):\n"
        "            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))\n"
        "        prev = cur\n    return prev[-1]",
        "def edit_distance(a, b):\n    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))",
        [["kitten", "sitting"]],
        [["horse", "ros"], ["", "abc"], ["same", "same"], ["intention", "execution"], ["ab", "ba"]],
    ),
    task(
        "coin-change",
        "Write `min_coins(coins, amount)`: the fewest coins (any number of each value in "
        "`coins`) that add up to `amount`, or -1 if no combination does.",
        "min_coins",
        "def min_coins(coins, amount):\n    inf = float('inf')\n    best = [0] + [inf] * amount\n"
        "    for a in range(1, amount + 1):\n        for c in coins:\n"
        "            if c <= a and best[a - c] + 1 < best[a]:\n                best[a] = best[a - c] + 1\n"
        "    return best[amount] if best[amount] != inf else -1",
        "def min_coins(coins, amount):\n    count = 0\n    for c in sorted(coins, reverse=True):\n"
        "        count += amount // c\n        amount %= c\n    return count if amount == 0 else -1",
        [[[1, 2, 5], 11]],
        [[[1, 3, 4], 6], [[2], 3], [[5], 0], [[9, 6, 5, 1], 11], [[3, 7], 12]],
    ),
    task(
        "knapsack",
        "Write `knapsack(weights, values, capacity)`: the largest total value of a set of "
        "items (each used at most once) whose weights add up to at most `capacity`.",
        "knapsack",
        "def knapsack(weights, values, capacity):\n    best = [0] * (capacity + 1)\n"
        "    for w, v in zip(weights, values):\n        for c in range(capacity, w - 1, -1):\n"
        "            best[c] = max(best[c], best[c - w] + v)\n    return best[capacity]",
        "def knapsack(weights, values, capacity):\n    total = 0\n"
        "    for w, v in sorted(zip(weights, values), key=lambda p: -p[1] / p[0]):\n"
        "        if w <= capacity:\n            capacity -= w\n            total += v\n    return total",
        [[[1, 3, 4], [15, 20, 30], 4]],
        [
            [[10, 20, 30], [60, 100, 120], 50],
            [[], [], 10],
            [[5], [10], 4],
            [[1, 2, 3], [6, 10, 12], 5],
            [[4, 3, 2], [10, 7, 6], 5],
        ],
    ),
    task(
        "lcs-length",
        "Write `lcs(a, b)`: the length of the longest common subsequence of the strings `a` "
        "and `b` (not necessarily contiguous).",
        "lcs",
        "def lcs(a, b):\n    prev = [0] * (len(b) + 1)\n    for ca in a:\n        cur = [0]\n"
        "        for j, cb in enumerate(b, 1):\n"
        "            cur.append(prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1]))\n"
        "        prev = cur\n    return prev[-1]",
        "def lcs(a, b):\n    best = 0\n    for i in range(len(a)):\n        for j in range(len(b)):\n"
        "            k = 0\n            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:\n"
        "                k += 1\n            best = max(best, k)\n    return best",
        [["abcde", "ace"]],
        [["abc", "def"], ["", "x"], ["AGGTAB", "GXTXAYB"], ["abcd", "abcd"], ["axbycz", "abc"]],
    ),
    task(
        "word-break",
        "Write `word_break(s, words)`: True if `s` can be cut into pieces that are each in "
        "`words` (a word may be used many times).",
        "word_break",
        "def word_break(s, words):\n    ok = [True] + [False] * len(s)\n    for i in range(1, len(s) + 1):\n"
        "        ok[i] = any(ok[i - len(w)] and s[i - len(w):i] == w for w in words if len(w) <= i)\n"
        "    return ok[-1]",
        "def word_break(s, words):\n    while s:\n"
        "        match = max((w for w in words if s.startswith(w)), key=len, default=None)\n"
        "        if match is None:\n            return False\n        s = s[len(match):]\n    return True",
        [["leetcode", ["leet", "code"]]],
        [
            ["aaaaaaa", ["aaaa", "aaa"]],
            ["catsandog", ["cats", "dog", "sand", "and", "cat"]],
            ["", ["a"]],
            ["abcd", ["ab", "abc", "cd"]],
            ["applepenapple", ["apple", "pen"]],
        ],
    ),
    task(
        "topological-order",
        "Write `topo_order(n, edges)`: an order of the nodes 0..n-1 in which every edge [u, v] "
        "has u before v, choosing the smallest available node at each step; [] if the edges "
        "form a cycle.",
        "topo_order",
        "import heapq\n\ndef topo_order(n, edges):\n    indegree = [0] * n\n    out = [[] for _ in range(n)]\n"
        "    for u, v in edges:\n        out[u].append(v)\n        indegree[v] += 1\n"
        "    ready = [i for i in range(n) if indegree[i] == 0]\n    heapq.heapify(ready)\n    order = []\n"
        "    while ready:\n        u = heapq.heappop(ready)\n        order.append(u)\n"
        "        for v in out[u]:\n            indegree[v] -= 1\n            if indegree[v] == 0:\n"
        "                heapq.heappush(ready, v)\n    return order if len(order) == n else []",
        "def topo_order(n, edges):\n    out = [[] for _ in range(n)]\n    for u, v in edges:\n        out[u].append(v)\n"
        "    seen, order = set(), []\n    def visit(u):\n        if u in seen:\n            return\n"
        "        seen.add(u)\n        for v in out[u]:\n            visit(v)\n        order.append(u)\n"
        "    for u in range(n):\n        visit(u)\n    return order[::-1]",
        [[3, [[0, 1], [1, 2]]]],
        [
            [4, [[1, 0], [2, 0], [3, 1]]],
            [3, [[0, 1], [1, 2], [2, 0]]],
            [1, []],
            [5, [[4, 0], [3, 0], [2, 1]]],
            [3, [[2, 1], [1, 0]]],
        ],
    ),
    task(
        "connected-components",
        "Write `components(n, edges)`: the number of connected components of the undirected "
        "graph with nodes 0..n-1 and the given [u, v] edges (which may repeat or form cycles).",
        "components",
        "def components(n, edges):\n    parent = list(range(n))\n    def find(x):\n"
        "        while parent[x] != x:\n            parent[x] = parent[parent[x]]\n            x = parent[x]\n"
        "        return x\n    count = n\n    for u, v in edges:\n        ru, rv = find(u), find(v)\n"
        "        if ru != rv:\n            parent[ru] = rv\n            count -= 1\n    return count",
        "def components(n, edges):\n    return n - len(edges)",
        [[5, [[0, 1], [1, 2], [3, 4]]]],
        [
            [3, [[0, 1], [1, 2], [2, 0]]],
            [4, []],
            [2, [[0, 1], [0, 1]]],
            [6, [[0, 1], [2, 3], [1, 0], [4, 5], [5, 4]]],
            [1, []],
        ],
    ),
    task(
        "is-bipartite",
        "Write `is_bipartite(n, edges)`: True if the nodes 0..n-1 of the undirected graph can "
        "be coloured with two colours so that every edge [u, v] joins different colours.",
        "is_bipartite",
        "def is_bipartite(n, edges):\n    adj = [[] for _ in range(n)]\n    for u, v in edges:\n"
        "        adj[u].append(v)\n        adj[v].append(u)\n    colour = [-1] * n\n"
        "    for start in range(n):\n        if colour[start] != -1:\n            continue\n"
        "        colour[start] = 0\n        stack = [start]\n        while stack:\n            u = stack.pop()\n"
        "            for v in adj[u]:\n                if colour[v] == -1:\n                    colour[v] = 1 - colour[u]\n"
        "                    stack.append(v)\n                elif colour[v] == colour[u]:\n"
        "                    return False\n    return True",
        "def is_bipartite(n, edges):\n    adj = [[] for _ in range(n)]\n    for u, v in edges:\n"
        "        adj[u].append(v)\n        adj[v].append(u)\n    colour = [-1] * n\n"
        "    if n == 0:\n        return True\n    colour[0] = 0\n    stack = [0]\n    while stack:\n"
        "        u = stack.pop()\n        for v in adj[u]:\n            if colour[v] == -1:\n"
        "                colour[v] = 1 - colour[u]\n                stack.append(v)\n"
        "            elif colour[v] == colour[u]:\n                return False\n    return True",
        [[4, [[0, 1], [1, 2], [2, 3], [3, 0]]]],
        [
            [3, [[0, 1], [1, 2], [2, 0]]],
            [5, [[0, 1], [2, 3], [3, 4], [4, 2]]],
            [0, []],
            [2, [[0, 0]]],
            [4, [[1, 2], [2, 3]]],
        ],
    ),
    task(
        "min-path-sum",
        "Write `min_path_sum(grid)`: the smallest sum of the numbers on a path from the "
        "top-left to the bottom-right cell of a non-empty grid, moving only right or down.",
        "min_path_sum",
        "def min_path_sum(grid):\n    rows, cols = len(grid), len(grid[0])\n    best = [[0] * cols for _ in range(rows)]\n"
        "    for r in range(rows):\n        for c in range(cols):\n            if r == 0 and c == 0:\n"
        "                best[r][c] = grid[0][0]\n            else:\n"
        "                up = best[r - 1][c] if r else float('inf')\n"
        "                left = best[r][c - 1] if c else float('inf')\n"
        "                best[r][c] = grid[r][c] + min(up, left)\n    return best[-1][-1]",
        "def min_path_sum(grid):\n    r = c = 0\n    total = grid[0][0]\n"
        "    while r < len(grid) - 1 or c < len(grid[0]) - 1:\n"
        "        down = grid[r + 1][c] if r < len(grid) - 1 else float('inf')\n"
        "        right = grid[r][c + 1] if c < len(grid[0]) - 1 else float('inf')\n"
        "        if down <= right:\n            r += 1\n        else:\n            c += 1\n"
        "        total += grid[r][c]\n    return total",
        [[[[1, 3, 1], [1, 5, 1], [4, 2, 1]]]],
        [
            [[[1, 2, 3], [4, 5, 6]]],
            [[[5]]],
            [[[1, 2, 9], [9, 9, 1], [1, 1, 1]]],
            [[[1], [2], [3]]],
            [[[1, 1, 99], [9, 1, 99], [9, 1, 1]]],
        ],
    ),
    task(
        "paths-with-obstacles",
        "Write `count_paths(grid)`: the number of paths from the top-left to the bottom-right "
        "cell of a grid of 0 (open) and 1 (blocked), moving only right or down through open "
        "cells.",
        "count_paths",
        "def count_paths(grid):\n    rows, cols = len(grid), len(grid[0])\n    ways = [[0] * cols for _ in range(rows)]\n"
        "    for r in range(rows):\n        for c in range(cols):\n            if grid[r][c]:\n                continue\n"
        "            if r == 0 and c == 0:\n                ways[r][c] = 1\n            else:\n"
        "                ways[r][c] = (ways[r - 1][c] if r else 0) + (ways[r][c - 1] if c else 0)\n"
        "    return ways[-1][-1]",
        "def count_paths(grid):\n    rows, cols = len(grid), len(grid[0])\n    ways = [[1] * cols for _ in range(rows)]\n"
        "    for r in range(1, rows):\n        for c in range(1, cols):\n"
        "            ways[r][c] = 0 if grid[r][c] else ways[r - 1][c] + ways[r][c - 1]\n    return ways[-1][-1]",
        [[[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]],
        [
            [[[0, 1], [0, 0]]],
            [[[1]]],
            [[[0, 0, 1, 0], [0, 0, 0, 0]]],
            [[[0, 0], [1, 0], [0, 0]]],
            [[[0] * 5 for _ in range(5)]],
        ],
    ),
    task(
        "longest-palindrome",
        "Write `longest_palindrome(s)`: the length of the longest contiguous substring of `s` "
        "that reads the same backwards.",
        "longest_palindrome",
        "def longest_palindrome(s):\n    best = 0\n    for centre in range(2 * len(s) - 1):\n"
        "        lo, hi = centre // 2, centre // 2 + centre % 2\n"
        "        while lo >= 0 and hi < len(s) and s[lo] == s[hi]:\n            lo -= 1\n            hi += 1\n"
        "        best = max(best, hi - lo - 1)\n    return best",
        "def longest_palindrome(s):\n    best = 0\n    for centre in range(len(s)):\n"
        "        lo = hi = centre\n        while lo >= 0 and hi < len(s) and s[lo] == s[hi]:\n"
        "            lo -= 1\n            hi += 1\n        best = max(best, hi - lo - 1)\n    return best",
        [["babad"]],
        [["cbbd"], [""], ["a"], ["abccbaxy"], ["forgeeksskeegfor"]],
    ),
    task(
        "network-delay",
        "Write `network_delay(n, edges, source)`: signals travel along the directed edges "
        "[u, v, w] of a graph on nodes 0..n-1, taking w >= 0 time units per edge. Return the "
        "time until every node has the signal sent from `source`, or -1 if some never does.",
        "network_delay",
        "import heapq\n\ndef network_delay(n, edges, source):\n    adj = [[] for _ in range(n)]\n"
        "    for u, v, w in edges:\n        adj[u].append((v, w))\n    dist = [None] * n\n"
        "    heap = [(0, source)]\n    while heap:\n        d, u = heapq.heappop(heap)\n"
        "        if dist[u] is not None:\n            continue\n        dist[u] = d\n"
        "        for v, w in adj[u]:\n            if dist[v] is None:\n                heapq.heappush(heap, (d + w, v))\n"
        "    return -1 if None in dist else max(dist)",
        "from collections import deque\n\ndef network_delay(n, edges, source):\n    adj = [[] for _ in range(n)]\n"
        "    for u, v, w in edges:\n        adj[u].append((v, w))\n    dist = [None] * n\n    dist[source] = 0\n"
        "    queue = deque([source])\n    while queue:\n        u = queue.popleft()\n        for v, w in adj[u]:\n"
        "            if dist[v] is None:\n                dist[v] = dist[u] + w\n                queue.append(v)\n"
        "    return -1 if None in dist else max(dist)",
        [[4, [[1, 0, 1], [1, 2, 1], [2, 3, 1]], 1]],
        [
            [3, [[0, 1, 10], [0, 2, 1], [2, 1, 2]], 0],
            [2, [[0, 1, 1]], 1],
            [1, [], 0],
            [4, [[0, 1, 5], [0, 2, 1], [2, 3, 1], [3, 1, 1]], 0],
            [3, [[0, 1, 0], [1, 2, 0]], 0],
        ],
    ),
    task(
        "min-jumps",
        "Write `min_jumps(xs)`: from index 0 of the non-empty list `xs`, each step may jump "
        "forward by 1 to xs[i] places. Return the fewest jumps that reach the last index, or "
        "-1 if it cannot be reached.",
        "min_jumps",
        "def min_jumps(xs):\n    jumps, end, farthest = 0, 0, 0\n    for i in range(len(xs) - 1):\n"
        "        if i > farthest:\n            return -1\n        farthest = max(farthest, i + xs[i])\n"
        "        if i == end:\n            if farthest <= i:\n                return -1\n"
        "            jumps += 1\n            end = farthest\n    return jumps",
        "def min_jumps(xs):\n    i = jumps = 0\n    while i < len(xs) - 1:\n        if xs[i] == 0:\n"
        "            return -1\n        i += xs[i]\n        jumps += 1\n    return jumps",
        [[[2, 3, 1, 1, 4]]],
        [
            [[3, 2, 1, 0, 4]],
            [[0]],
            [[1, 1, 1, 1]],
            [[2, 0, 2, 0, 1]],
            [[4, 1, 1, 3, 1, 1, 1]],
            [[1, 0, 5]],
        ],
    ),
    task(
        "interval-scheduling",
        "Write `max_meetings(intervals)`: the largest number of meetings [start, end) from "
        "`intervals` that one room can hold without overlap (a meeting may start when "
        "another ends).",
        "max_meetings",
        "def max_meetings(intervals):\n    count, free_at = 0, float('-inf')\n"
        "    for start, end in sorted(intervals, key=lambda m: m[1]):\n        if start >= free_at:\n"
        "            count += 1\n            free_at = end\n    return count",
        "def max_meetings(intervals):\n    count, free_at = 0, float('-inf')\n"
        "    for start, end in sorted(intervals):\n        if start >= free_at:\n"
        "            count += 1\n            free_at = end\n    return count",
        [[[[1, 3], [2, 4], [3, 5]]]],
        [
            [[[0, 10], [1, 2], [3, 4], [5, 6]]],
            [[]],
            [[[1, 2]]],
            [[[1, 5], [2, 3], [3, 4], [4, 6]]],
            [[[5, 7], [1, 3], [3, 5]]],
        ],
    ),
    task(
        "equal-partition",
        "Write `can_partition(xs)`: True if the non-negative integers `xs` can be split into "
        "two groups with equal sums.",
        "can_partition",
        "def can_partition(xs):\n    total = sum(xs)\n    if total % 2:\n        return False\n"
        "    reachable = {0}\n    for x in xs:\n        reachable |= {r + x for r in reachable}\n"
        "    return total // 2 in reachable",
        "def can_partition(xs):\n    return sum(xs) % 2 == 0",
        [[[1, 5, 11, 5]]],
        [[[1, 2, 3, 5]], [[]], [[2, 2, 10]], [[3, 3, 3, 3]], [[1, 1, 1, 1, 6]]],
    ),
]


# Plausible wrong answers for the tasks written by hand before this script (function
# tasks in functions.jsonl, programs in stdio.jsonl).
EARLIER_WRONG = {
    "reverse-words": "def reverse_words(s):\n    return ' '.join(s.split(' ')[::-1])\n",
    "clean-palindrome": "def is_palindrome(s):\n    return s.lower() == s.lower()[::-1]\n",
    "running-max": "def running_max(xs):\n    out, m = [], 0\n    for x in xs:\n"
    "        m = max(m, x)\n        out.append(m)\n    return out\n",
    "fizzbuzz": "def fizzbuzz(n):\n    out = []\n    for i in range(1, n + 1):\n"
    "        if i % 3 == 0:\n            out.append('Fizz')\n        elif i % 5 == 0:\n"
    "            out.append('Buzz')\n        elif i % 15 == 0:\n            out.append('FizzBuzz')\n"
    "        else:\n            out.append(str(i))\n    return out\n",
    "gcd-of-list": "from functools import reduce\nfrom math import gcd\n\ndef gcd_list(xs):\n"
    "    return reduce(gcd, xs)\n",
    "lis-length": "def lis_length(xs):\n    best = [1] * len(xs)\n    for i in range(len(xs)):\n"
    "        for j in range(i):\n            if xs[j] <= xs[i]:\n"
    "                best[i] = max(best[i], best[j] + 1)\n    return max(best, default=0)\n",
    "merge-intervals": "def merge_intervals(intervals):\n    out = []\n"
    "    for s, e in sorted(intervals):\n        if out and s < out[-1][1]:\n"
    "            out[-1][1] = max(out[-1][1], e)\n        else:\n            out.append([s, e])\n"
    "    return out\n",
    "shortest-path": "def shortest_path(n, edges, s, t):\n    adj = [[] for _ in range(n)]\n"
    "    for u, v in edges:\n        adj[u].append(v)\n        adj[v].append(u)\n"
    "    seen = set()\n    def dfs(u, d):\n        if u == t:\n            return d\n        seen.add(u)\n"
    "        for v in adj[u]:\n            if v not in seen:\n                found = dfs(v, d + 1)\n"
    "                if found != -1:\n                    return found\n        return -1\n"
    "    return dfs(s, 0)\n",
    "two-sum": "def two_sum(nums, target):\n    seen = {}\n    for j, x in enumerate(nums):\n"
    "        if target - x in seen:\n            return [seen[target - x], j]\n        seen[x] = j\n"
    "    return []\n",
    "count-islands": "def count_islands(grid):\n    seen = set()\n    count = 0\n"
    "    for r in range(len(grid)):\n        for c in range(len(grid[0])):\n"
    "            if grid[r][c] == '1' and (r, c) not in seen:\n                count += 1\n"
    "                stack = [(r, c)]\n                while stack:\n                    y, x = stack.pop()\n"
    "                    if (y, x) in seen or not (0 <= y < len(grid) and 0 <= x < len(grid[0])):\n"
    "                        continue\n                    if grid[y][x] != '1':\n                        continue\n"
    "                    seen.add((y, x))\n                    for dy in (-1, 0, 1):\n"
    "                        for dx in (-1, 0, 1):\n                            stack.append((y + dy, x + dx))\n"
    "    return count\n",
    "sum-of-pairs": "import sys\ndata = sys.stdin.read().split()\nn = int(data[0])\n"
    "for i in range(n - 1):\n    print(int(data[1 + 2 * i]) + int(data[2 + 2 * i]))\n",
    "word-frequency": "import re, sys\nfrom collections import Counter\n"
    "counts = Counter(re.findall(r'[a-z]+', sys.stdin.read().lower()))\n"
    "for word, n in sorted(counts.items()):\n    print(word, n)\n",
    "primes-up-to": "n = int(input())\nprimes = [i for i in range(2, n) if all(i % d for d in range(2, i))]\n"
    "print(' '.join(map(str, primes)))\n",
    "balanced-brackets": "import sys\nfor line in sys.stdin.read().split():\n"
    "    ok = all(line.count(a) == line.count(b) for a, b in ('()', '[]', '{}'))\n"
    "    print('YES' if ok else 'NO')\n",
    "grid-paths": "import sys\nlines = sys.stdin.read().split()\nr, c = int(lines[0]), int(lines[1])\n"
    "grid = lines[2:2 + r]\nways = [[0] * c for _ in range(r)]\nfor i in range(r):\n"
    "    for j in range(c):\n        if grid[i][j] == '#':\n            continue\n"
    "        ways[i][j] = 1 if i == 0 and j == 0 else (ways[i - 1][j] if i else 0) + (ways[i][j - 1] if j else 0)\n"
    "print(ways[r - 1][c - 1])\n",
    "matrix-transpose": "import sys\ndata = sys.stdin.read().split()\nr, c = int(data[0]), int(data[1])\n"
    "values = data[2:]\nfor i in range(r):\n    print(' '.join(values[i * c:(i + 1) * c]))\n",
}


def _call(source: str, entry_point: str, args: list[Any]) -> Any:
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # the project's own reference solutions
    return namespace[entry_point](*json.loads(json.dumps(args)))


def _case(source: str, entry_point: str, args: list[Any]) -> dict[str, Any]:
    expected = json.loads(json.dumps(_call(source, entry_point, args)))  # tuples -> lists
    return {"args": args, "expected": expected}


def main() -> None:
    authored = {}
    wrong = {}
    for t in TASKS:
        record = {
            "id": t["id"],
            "prompt": t["prompt"],
            "entry_point": t["entry_point"],
            "solution": t["solution"],
            "examples": [_case(t["solution"], t["entry_point"], a) for a in t["examples"]],
            "tests": [_case(t["solution"], t["entry_point"], a) for a in t["tests"]],
            "wall_seconds": 5.0,
        }
        authored[t["id"]] = record
        wrong[t["id"]] = t["wrong"]
    kept = [json.loads(line) for line in TASKS_FILE.read_text().splitlines() if line.strip()]
    records = [authored.pop(r["id"], r) for r in kept] + list(authored.values())
    TASKS_FILE.write_text("".join(json.dumps(r) + "\n" for r in records))
    previous = {}
    if WRONG_FILE.exists():
        for line in WRONG_FILE.read_text().splitlines():
            item = json.loads(line)
            previous[item["id"]] = item["wrong"]
    previous.update(EARLIER_WRONG)
    previous.update(wrong)
    WRONG_FILE.parent.mkdir(exist_ok=True)
    WRONG_FILE.write_text(
        "".join(json.dumps({"id": k, "wrong": v}) + "\n" for k, v in sorted(previous.items()))
    )
    print(f"{len(records)} function tasks in {TASKS_FILE}; wrong answers in {WRONG_FILE}")


if __name__ == "__main__":
    main()
