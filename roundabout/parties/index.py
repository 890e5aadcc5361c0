"""The screening index: a name is compared with the few list names that share one of its words, not with
the whole list.

Blocking: every distinctive word of every listed name (and alias) is posted under its comparable form, its
metaphone code and its one-letter deletions, so a query word finds the list words that equal it, sound
like it or are one or two edits away (a typo, a transliteration: "plyus"/"plus") with dictionary look-ups
only. Words that a large share of the list carries are not used for blocking.

Scoring: the query's words and a candidate name's words are paired one-to-one, best first (similarity is
rapidfuzz's normalised indel ratio; generic and domain words compare by concept), and the score is the
weighted share of both names' words that found a partner: a soft TF-IDF over the list, so rare words count
more than common ones and words left over on either side lower it. A pair of names whose only shared words
are generic or a line of business ("Trade", "Group", "Technology") never matches, however high the
arithmetic: a match needs a pair of name words, or, for a name made only of such words ("Sistemy Grupp"),
every word of both names paired closely. Agreement of the
query's country with the entry's adds `COUNTRY_BONUS`.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Indel

from roundabout.parties.entries import ListEntry
from roundabout.parties.names import AnalysedName, NameToken, analyse
from roundabout.parties.programmes import programme_family

#: A score at or above this is a match (measured on the simulated pair set: docs/screening.md).
DEFAULT_THRESHOLD = 0.80
COUNTRY_BONUS = 0.05
#: Two words pair only when at least this similar; a distinctive pair must reach `STRONG_PAIR`.
TOKEN_MIN = 0.70
STRONG_PAIR = 0.80
#: Weight of a word by kind, times its inverse document frequency over the list's names.
KIND_WEIGHT = {"name": 1.0, "domain": 0.6, "generic": 0.2}
#: Blocking ignores words carried by more than this many list names (they still count when scoring).
MAX_POSTINGS = 2_000
CANDIDATES = 32
#: Distinct (name, country, floor) whose matches an index keeps.
CACHED = 100_000
#: Words equal or close once romanisation differences are folded (`names.fold`) compare at their folded
#: similarity less this: an exact spelling stays ahead of a folded one.
FOLD_PENALTY = 0.02
#: Character trigrams find list words a few edits away (transliterations: "balchasch"/"balkhash"): words
#: sharing at least this share of a query word's trigrams are compared, the `GRAM_CANDIDATES` best.
GRAM_SHARE = 0.3
GRAM_CANDIDATES = 24
MAX_GRAM_POSTINGS = 20_000


@dataclass(frozen=True)
class ListVersion:
    """Which loaded list a match comes from: its name, the snapshot's id in the store and content hash."""

    list_name: str
    version: int
    content_hash: str = ""
    published: date | None = None


@dataclass(frozen=True)
class LoadedList:
    version: ListVersion
    entries: Sequence[ListEntry]


@dataclass(frozen=True)
class Match:
    """A list entry a name resembles, with why: the list name matched and the word pairs."""

    score: float
    list_name: str
    list_version: int
    entry_id: str
    entry_name: str
    matched_name: str
    programmes: tuple[str, ...]
    countries: tuple[str, ...]
    kind: str
    matched_words: tuple[tuple[str, str, float], ...]
    country_agrees: bool | None
    listed_on: date | None = None

    @property
    def programme_family(self) -> str:
        return programme_family(self.programmes)

    def as_dict(self) -> dict[str, object]:
        return {
            "score": round(self.score, 4),
            "list": self.list_name,
            "list_version": self.list_version,
            "entry_id": self.entry_id,
            "entry_name": self.entry_name,
            "matched_name": self.matched_name,
            "programmes": list(self.programmes),
            "programme_family": self.programme_family,
            "countries": list(self.countries),
            "kind": self.kind,
            "matched_words": [
                {"query": q, "listed": w, "similarity": round(s, 3)} for q, w, s in self.matched_words
            ],
            "country_agrees": self.country_agrees,
            "listed_on": self.listed_on.isoformat() if self.listed_on else None,
        }


def _trigrams(text: str) -> set[str]:
    padded = f"#{text}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)} if len(text) >= 4 else set()


def _deletions(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))} if len(text) >= 4 else set()


class ScreeningIndex:
    """Names of one or more loaded lists, indexed for screening (build with `ScreeningIndex.build`)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self.versions: list[ListVersion] = []
        self._entries: list[tuple[int, ListEntry]] = []  # (list position, entry)
        self._alias_entry: list[int] = []
        self._alias_name: list[str] = []
        self._alias_tokens: list[tuple[int, ...]] = []
        self._vocab: dict[tuple[str, str], int] = {}
        self._by_key: dict[str, list[int]] = {}
        self._by_text: dict[str, list[int]] = {}
        self._tokens: list[NameToken] = []
        self._df: list[int] = []
        self._postings: list[list[int]] = []
        self._by_sound: dict[str, list[int]] = {}
        self._by_fold: dict[str, list[int]] = {}
        self._by_deletion: dict[str, list[int]] = {}
        self._by_gram: dict[str, np.ndarray] = {}
        self._posting_arrays: list[np.ndarray] = []
        self._weight: list[float] = []
        self._unknown_idf = 1.0
        self._cached = lru_cache(maxsize=CACHED)(self._matches)

    def __getstate__(self) -> dict[str, object]:
        """Picklable (sent to the workers of a Dask cluster): the match cache stays behind."""
        return {k: v for k, v in self.__dict__.items() if k != "_cached"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cached = lru_cache(maxsize=CACHED)(self._matches)

    # building ----------------------------------------------------------------------------------------
    @classmethod
    def build(cls, lists: Iterable[LoadedList], threshold: float = DEFAULT_THRESHOLD) -> "ScreeningIndex":
        index = cls(threshold)
        for position, loaded in enumerate(lists):
            index.versions.append(loaded.version)
            for entry in loaded.entries:
                entry_no = len(index._entries)
                index._entries.append((position, entry))
                for name in entry.all_names():
                    index._add_alias(entry_no, name, entry.kind)
        index._finish()
        return index

    def _token_id(self, token: NameToken) -> int:
        """The id of a list word: one per (key, text), found by key, by text, by sound and by deletions."""
        tid = self._vocab.get((token.key, token.text))
        if tid is None:
            tid = len(self._tokens)
            self._vocab[(token.key, token.text)] = tid
            self._tokens.append(token)
            self._df.append(0)
            self._postings.append([])
            self._by_key.setdefault(token.key, []).append(tid)
            self._by_text.setdefault(token.text, []).append(tid)
            if token.phonetic:
                self._by_sound.setdefault(token.phonetic, []).append(tid)
            if len(token.folded) >= 3:
                self._by_fold.setdefault(token.folded, []).append(tid)
            for deletion in _deletions(token.text):
                self._by_deletion.setdefault(deletion, []).append(tid)
        return tid

    def _add_alias(self, entry_no: int, name: str, kind: str) -> None:
        analysed = analyse(name, kind)
        if not any(t.kind != "generic" for t in analysed.tokens):
            return  # generic words only ("Trade Group"): found by no blocking key, nothing to index
        alias = len(self._alias_name)
        ids = tuple(self._token_id(t) for t in analysed.tokens)
        for tid in set(ids):
            self._df[tid] += 1
            self._postings[tid].append(alias)
        self._alias_entry.append(entry_no)
        self._alias_name.append(name)
        self._alias_tokens.append(ids)

    def _finish(self) -> None:
        grams: dict[str, list[int]] = {}
        for tid, token in enumerate(self._tokens):
            for gram in _trigrams(token.text):
                grams.setdefault(gram, []).append(tid)
        self._by_gram = {
            g: np.array(t, dtype=np.int32) for g, t in grams.items() if len(t) <= MAX_GRAM_POSTINGS
        }
        self._posting_arrays = [np.array(p, dtype=np.int32) for p in self._postings]
        n = len(self._alias_name)
        self._unknown_idf = math.log(n + 1) + 1.0
        self._weight = [
            (math.log((n + 1) / (df + 1)) + 1.0) * KIND_WEIGHT[tok.kind]
            for tok, df in zip(self._tokens, self._df, strict=True)
        ]

    @property
    def size(self) -> tuple[int, int]:
        """(entries, names and aliases indexed)."""
        return len(self._entries), len(self._alias_name)

    # matching ----------------------------------------------------------------------------------------
    def _similar(self, token: NameToken) -> dict[int, float]:
        """List words similar to a query word, with their similarity (>= TOKEN_MIN): the same concept or
        text; for words that are not generic, also those that sound alike or are an edit or two away."""
        out = dict.fromkeys((*self._by_key.get(token.key, ()), *self._by_text.get(token.text, ())), 1.0)
        if token.kind == "generic":
            return out
        found: set[int] = set(self._by_sound.get(token.phonetic, ())) if token.phonetic else set()
        found.update(self._by_fold.get(token.folded, ()))
        found.update(self._by_grams(token.text))
        deletions = _deletions(token.text)
        for key in (token.text, *deletions):
            found.update(self._by_deletion.get(key, ()))
        for key in deletions:
            found.update(self._by_text.get(key, ()))
        for tid in found:
            if tid not in out:
                other = self._tokens[tid]
                sim = max(
                    Indel.normalized_similarity(token.text, other.text),
                    Indel.normalized_similarity(token.folded, other.folded) - FOLD_PENALTY,
                )
                if sim >= TOKEN_MIN:
                    out[tid] = sim
        return out

    def _by_grams(self, text: str) -> list[int]:
        """List words sharing at least `GRAM_SHARE` of the word's trigrams, most shared first."""
        grams = _trigrams(text)
        postings = [p for g in grams if (p := self._by_gram.get(g)) is not None]
        if not postings:
            return []
        tids, counts = np.unique(np.concatenate(postings), return_counts=True)
        keep = counts >= max(2, math.ceil(GRAM_SHARE * len(grams)))
        tids, counts = tids[keep], counts[keep]
        if len(tids) > GRAM_CANDIDATES:
            top = np.argpartition(-counts, GRAM_CANDIDATES)[:GRAM_CANDIDATES]
            tids = tids[top]
        return tids.tolist()

    def _query_weight(self, token: NameToken) -> float:
        tid = self._vocab.get((token.key, token.text))
        if tid is None and token.key in self._by_key:
            tid = self._by_key[token.key][0]
        return self._weight[tid] if tid is not None else self._unknown_idf * KIND_WEIGHT[token.kind]

    def _score(
        self, query: AnalysedName, similar: list[dict[int, float]], q_weights: list[float], alias: int
    ) -> tuple[float, tuple[tuple[str, str, float], ...]]:
        ids = self._alias_tokens[alias]
        pairs = sorted(
            (
                (sim, qi, ai)
                for qi, sims in enumerate(similar)
                for ai, tid in enumerate(ids)
                if (sim := sims.get(tid))
            ),
            reverse=True,
        )
        used_q: set[int] = set()
        used_a: set[int] = set()
        matched = 0.0
        strong = False
        words = []
        for sim, qi, ai in pairs:
            if qi in used_q or ai in used_a:
                continue
            used_q.add(qi)
            used_a.add(ai)
            tid = ids[ai]
            matched += sim * (q_weights[qi] + self._weight[tid])
            token = self._tokens[tid]
            strong |= token.kind == "name" and query.tokens[qi].kind == "name" and sim >= STRONG_PAIR
            words.append((query.tokens[qi].text, token.text, sim))
        # Without a pair of name words only the whole name counts: every word of both, two or more, paired
        # closely ("Sistemy Grupp" for "Системы Групп"); an overlap of common words is never a match.
        whole = len(used_q) == len(similar) == len(ids) >= 2 and all(w[2] >= STRONG_PAIR for w in words)
        if not (strong or whole):
            return 0.0, ()
        total = sum(q_weights) + sum(self._weight[t] for t in ids)
        return matched / total, tuple(words)

    def _shortlist(self, query: AnalysedName) -> tuple[list[dict[int, float]], list[float], list[int]]:
        """The query words' similar list words, their weights, and the `CANDIDATES` names (aliases) that
        share the most weight with it: the only ones scored. Generic words never vote, and words carried
        by more than `MAX_POSTINGS` names vote only when the query has no rarer one."""
        if not any(t.kind != "generic" for t in query.tokens) or not self._alias_name:
            return [], [], []
        similar = [self._similar(t) for t in query.tokens]
        q_weights = [self._query_weight(t) for t in query.tokens]
        voters = [
            (self._df[tid], tid, sim * weight)
            for token, sims, weight in zip(query.tokens, similar, q_weights, strict=True)
            if token.kind != "generic"
            for tid, sim in sims.items()
            if self._tokens[tid].kind != "generic"
        ]
        rare = [v for v in voters if v[0] <= MAX_POSTINGS] or sorted(voters)[:1]
        if not rare:
            return similar, q_weights, []
        if sum(df for df, _, _ in rare) <= 4 * CANDIDATES:
            votes: dict[int, float] = {}
            for _, tid, w in rare:
                for alias in self._postings[tid]:
                    votes[alias] = votes.get(alias, 0.0) + w
            return similar, q_weights, sorted(votes, key=votes.__getitem__, reverse=True)[:CANDIDATES]
        # many postings: summed in numpy (a query word of a big list can reach thousands of names)
        aliases = np.concatenate([self._posting_arrays[tid] for _, tid, _ in rare])
        weights = np.repeat([w for _, _, w in rare], [df for df, _, _ in rare])
        unique, inverse = np.unique(aliases, return_inverse=True)
        sums = np.bincount(inverse, weights=weights)
        if len(unique) > CANDIDATES:
            top = np.argpartition(-sums, CANDIDATES)[:CANDIDATES]
            unique, sums = unique[top], sums[top]
        return similar, q_weights, unique[np.argsort(-sums, kind="stable")].tolist()

    def clear_cache(self) -> None:
        """Forget the kept matches (for benchmarks of first sightings)."""
        self._cached.cache_clear()

    def candidates(self, name: str) -> list[int]:
        """The names (alias positions) a name is compared with: at most `CANDIDATES` of the list."""
        return self._shortlist(analyse(name))[2]

    def match(
        self,
        name: str,
        country: str | None = None,
        *,
        limit: int = 5,
        min_score: float | None = None,
        as_of: date | None = None,
    ) -> list[Match]:
        """Entries `name` resembles at `min_score` or more (default: the threshold), best first, one match
        per entry (its best name). `as_of`: only entries listed on or before that day (or undated).
        The matches of a (name, country, floor) are kept (`CACHED` of them): parties recur in trade."""
        floor = self.threshold if min_score is None else min_score
        found = self._cached(name, country.upper() if country else None, floor)
        if as_of is not None:
            found = [m for m in found if m.listed_on is None or m.listed_on <= as_of]
        return found[:limit]

    def _matches(self, name: str, country: str | None, floor: float) -> list[Match]:
        """Every entry `name` resembles at `floor` or more, best first (see `match`)."""
        query = analyse(name)
        similar, q_weights, shortlist = self._shortlist(query)
        best: dict[int, Match] = {}
        rank: dict[int, float] = {}  # the score before the cap at 1: a closer name wins a tie at 1.0
        for alias in shortlist:
            entry_no = self._alias_entry[alias]
            position, entry = self._entries[entry_no]
            score, words = self._score(query, similar, q_weights, alias)
            agrees = None
            if country and entry.countries:
                agrees = country in entry.countries
                if agrees and score > 0.0:
                    score += COUNTRY_BONUS
            if score <= 0.0 or score < floor or rank.get(entry_no, -1.0) >= score:
                continue
            version = self.versions[position]
            rank[entry_no] = score
            best[entry_no] = Match(
                min(1.0, score), version.list_name, version.version, entry.entry_id, entry.name,
                self._alias_name[alias], entry.programmes, entry.countries, entry.kind, words, agrees,
                entry.listed_on,
            )  # fmt: skip
        order = sorted(best, key=lambda e: (-rank[e], best[e].list_name, best[e].entry_id))
        return [best[e] for e in order]
