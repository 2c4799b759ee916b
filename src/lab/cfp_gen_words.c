/* cfp_gen_words.c - the vocabulary shared by generated texts and CSVs. */
#include <string.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"

#define VOCAB_SIZE 4000
#define WORD_MAX   18 /* longest pseudo-word: 3 syllables of at most 6 bytes */

/* The seed of the pseudo-word list: fixed, so every dataset speaks the same
 * invented language whatever --seed says. Changing it changes all texts. */
#define VOCAB_SEED UINT64_C(0x636670766f636162)

/* Real English at the top of the frequency list, roughly in corpus order,
 * with contractions mixed in so apostrophes are common, as in real text. */
static const char *const common[] = {
    "the",     "of",      "and",      "to",     "a",      "in",     "is",       "it",
    "you",     "that",    "he",       "was",    "for",    "on",     "are",      "with",
    "as",      "i",       "his",      "they",   "be",     "at",     "one",      "have",
    "this",    "from",    "or",       "had",    "by",     "not",    "it's",     "but",
    "what",    "some",    "we",       "can",    "out",    "other",  "were",     "all",
    "there",   "when",    "up",       "use",    "your",   "how",    "said",     "an",
    "each",    "she",     "don't",    "which",  "do",     "their",  "time",     "if",
    "will",    "way",     "about",    "many",   "then",   "them",   "would",    "like",
    "so",      "these",   "her",      "long",   "make",   "thing",  "see",      "him",
    "two",     "has",     "look",     "more",   "day",    "could",  "go",       "come",
    "did",     "i'm",     "number",   "sound",  "no",     "most",   "people",   "my",
    "over",    "know",    "water",    "than",   "call",   "first",  "who",      "can't",
    "may",     "down",    "side",     "been",   "now",    "find",   "that's",   "any",
    "new",     "work",    "part",     "take",   "get",    "place",  "made",     "live",
    "where",   "after",   "back",     "little", "only",   "round",  "man",      "year",
    "came",    "show",    "every",    "good",   "me",     "give",   "our",      "under",
    "name",    "very",    "through",  "just",   "form",   "isn't",  "much",     "great",
    "think",   "say",     "help",     "low",    "line",   "before", "turn",     "cause",
    "same",    "mean",    "differ",   "move",   "right",  "boy",    "old",      "too",
    "does",    "tell",    "sentence", "set",    "three",  "want",   "air",      "well",
    "also",    "play",    "small",    "end",    "put",    "home",   "read",     "hand",
    "port",    "large",   "spell",    "add",    "even",   "land",   "here",     "must",
    "big",     "high",    "such",     "won't",  "follow", "act",    "why",      "ask",
    "men",     "change",  "went",     "light",  "kind",   "you're", "off",      "need",
    "house",   "picture", "try",      "us",     "again",  "animal", "point",    "mother",
    "world",   "near",    "build",    "self",   "earth",  "father", "doesn't",  "we'll",
    "they've", "didn't",  "there's",  "let's",  "she's",  "he's",   "wouldn't", "couldn't",
};

static const char *const onsets[] = {
    "b", "c", "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",  "n",  "p",  "r",  "s",  "t", "v",
    "w", "z", "br", "ch", "sh", "th", "st", "tr", "pl", "gr", "cl", "qu", "fl", "sp", "",
};
static const char *const vowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "oo", "ie", "y"};
static const char *const codas[] = {"",  "",  "",  "",   "",   "",   "n",  "r", "s",
                                    "t", "l", "m", "nd", "st", "ng", "ck", "x", "rt"};

/* Non-ASCII words: 2-, 3- and 4-byte UTF-8 sequences, combining accents
 * written precomposed, an emoji with a skin-tone modifier. */
static const char *const multibyte[] = {
    "café",      "naïve",    "Zürich", "東京",     "😀",           "résumé",   "façade",
    "São",       "Ångström", "Привет", "Ελλάδα",   "日本語",      "🎉",        "👍🏽",
    "coöperate", "jalapeño", "Kraków", "Ørsted",   "smörgåsbord", "über",     "niño",
    "crème",     "brûlée",   "Straße", "İstanbul", "Москва",      "北京",     "서울",
    "€",         "—",        "…",      "😂",        "❤️",      "François", "Dvořák",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct cfp_gen_vocab {
    char *pool;       /* all words, NUL-terminated, back to back */
    uint32_t *offset; /* offset[r]: start of the word of rank r in pool */
    uint64_t *cum;    /* cum[r]: sum of the weights of ranks 0..r */
    size_t n;
};

/* Appends one pseudo-word to pool at *used; longer words for rarer ranks, as
 * in real languages. */
static void make_word(char *pool, size_t *used, size_t rank, struct cfp_rng *r)
{
    unsigned syl = (unsigned)(rank < 400    ? 1
                              : rank < 1500 ? cfp_rng_range(r, 1, 2)
                                            : cfp_rng_range(r, 2, 3));
    char *p = pool + *used;
    size_t n = 0;

    for (unsigned i = 0; i < syl; i++) {
        const char *parts[3];

        /* Separate statements: the evaluation order inside an initialiser
         * list is unspecified, and compilers do differ. */
        parts[0] = onsets[cfp_rng_below(r, COUNT(onsets))];
        parts[1] = vowels[cfp_rng_below(r, COUNT(vowels))];
        parts[2] = codas[cfp_rng_below(r, COUNT(codas))];
        for (int k = 0; k < 3; k++) {
            size_t len = strlen(parts[k]);
            memcpy(p + n, parts[k], len);
            n += len;
        }
    }
    p[n] = '\0';
    *used += n + 1;
}

static void fill_vocab(struct cfp_gen_vocab *v)
{
    struct cfp_rng r;
    size_t used = 0;
    uint64_t sum = 0;

    cfp_rng_seed_stream(&r, VOCAB_SEED, CFP_GEN_STREAM_VOCAB, 0);
    for (size_t i = 0; i < v->n; i++) {
        v->offset[i] = (uint32_t)used;
        if (i < COUNT(common)) {
            size_t len = strlen(common[i]);
            memcpy(v->pool + used, common[i], len + 1);
            used += len + 1;
        } else {
            make_word(v->pool, &used, i, &r);
        }
        /* Zipf with s = 1, shifted by 2 so the top word is not half of all
         * text: weight(r) = 2^32 / (r + 2). */
        sum += (UINT64_C(1) << 32) / (i + 2);
        v->cum[i] = sum;
    }
}

cfp_err cfp_gen_vocab_new(struct cfp_gen_vocab **out)
{
    struct cfp_gen_vocab *v = cfp_calloc(1, sizeof(*v));

    if (!v)
        return CFP_ERR_NOMEM;
    v->n = VOCAB_SIZE;
    v->pool = cfp_malloc(VOCAB_SIZE * (WORD_MAX + 1));
    v->offset = cfp_malloc(VOCAB_SIZE * sizeof(*v->offset));
    v->cum = cfp_malloc(VOCAB_SIZE * sizeof(*v->cum));
    if (!v->pool || !v->offset || !v->cum) {
        cfp_gen_vocab_free(&v);
        return CFP_ERR_NOMEM;
    }
    fill_vocab(v);
    *out = v;
    return CFP_ERR_OK;
}

void cfp_gen_vocab_free(struct cfp_gen_vocab **pv)
{
    if (!pv || !*pv)
        return;
    cfp_free((*pv)->pool);
    cfp_free((*pv)->offset);
    cfp_free((*pv)->cum);
    cfp_free(*pv);
    *pv = NULL;
}

const char *cfp_gen_vocab_pick(const struct cfp_gen_vocab *v, struct cfp_rng *r, size_t *len)
{
    uint64_t u = cfp_rng_below(r, v->cum[v->n - 1]);
    size_t lo = 0, hi = v->n - 1;
    const char *w;

    /* First rank whose cumulative weight exceeds u. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    w = v->pool + v->offset[lo];
    *len = strlen(w);
    return w;
}

const char *cfp_gen_multibyte_word(struct cfp_rng *r)
{
    return multibyte[cfp_rng_below(r, COUNT(multibyte))];
}
