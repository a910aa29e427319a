/*
 * ktrdr plugin ABI (SYSTEM.md §4). A plugin is a shared library exporting one C symbol,
 * `ktrdr_plugin_descriptor`, a function returning a pointer to a static descriptor.
 * The host checks magic, ABI major/minor, struct size, kind and build signature before
 * it calls anything else. Only C types cross: contiguous double columns, integers, C
 * strings and a caller-owned error buffer. Nothing here allocates across the boundary.
 *
 * Versioning: a new major breaks the ABI. A new minor only appends fields or fills
 * spare slots; a host accepts any plugin with the same major and a minor <= its own,
 * and reads `struct_size` to know which fields exist. The prefix of ktrdr_plugin_info up
 * to `version` keeps its layout in every major version, so a host can always say which
 * plugin it refused and why.
 */
#ifndef KTRDR_PLUGIN_H
#define KTRDR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "KTRDRPLG" in ASCII. */
#define KTRDR_PLUGIN_MAGIC 0x4B54524452504C47ULL
#define KTRDR_PLUGIN_ABI_MAJOR 1
#define KTRDR_PLUGIN_ABI_MINOR 1
#define KTRDR_PLUGIN_SYMBOL "ktrdr_plugin_descriptor"
#define KTRDR_ERROR_CAPACITY 2048

typedef enum {
    KTRDR_PLUGIN_STRATEGY = 1,
    KTRDR_PLUGIN_MODEL = 2
} ktrdr_plugin_kind;

/* Error codes a call may set in ktrdr_error.code (0 = no error). */
typedef enum {
    KTRDR_OK = 0,
    KTRDR_ERR_CONFIG = 1,      /* the strategy configuration is invalid (422 strategy_invalid) */
    KTRDR_ERR_RUNTIME = 2,     /* computing failed */
    KTRDR_ERR_MODEL = 3,       /* a model file is corrupt or incompatible (422 model_invalid) */
    KTRDR_ERR_CANCELLED = 4    /* a progress callback asked to stop */
} ktrdr_error_code;

/* Caller-owned error out-parameter: the callee writes a NUL-terminated message. */
typedef struct ktrdr_error {
    int32_t code;
    char message[KTRDR_ERROR_CAPACITY];
} ktrdr_error;

/* Sets `error` (if not NULL): code and message, truncated on a UTF-8 boundary, NUL-terminated. */
static inline void ktrdr_error_set(ktrdr_error *error, int32_t code, const char *message) {
    if (!error) return;
    error->code = code;
    size_t n = 0;
    if (message) {
        while (message[n] && n < KTRDR_ERROR_CAPACITY - 1) n++;
        if (message[n]) while (n > 0 && (((unsigned char)message[n]) & 0xC0) == 0x80) n--;
        for (size_t i = 0; i < n; i++) error->message[i] = message[i];
    }
    error->message[n] = 0;
}

static inline const char *ktrdr_error_message(const ktrdr_error *error) { return error->message; }

/* Whole OHLCV columns, borrowed for the duration of one call. */
typedef struct ktrdr_bars {
    int64_t count;
    const int64_t *timestamps; /* UTC epoch seconds, strictly increasing */
    const double *open;
    const double *high;
    const double *low;
    const double *close;
    const double *volume;
} ktrdr_bars;

/* A loaded model as a strategy sees it: the host lends it (from a model plugin). */
typedef struct ktrdr_model_ref {
    void *context;
    int64_t input_size;
    int64_t output_size; /* 3: BUY, HOLD, SELL */
    /* Row-major x[rows * cols] -> probabilities out[rows * output_size]. Returns 0 on success. */
    int32_t (*predict)(void *context, const double *x, int64_t rows, int64_t cols, double *out, ktrdr_error *error);
} ktrdr_model_ref;

/* ABI 1.1: one indicator series a strategy asks the host for (DOMAIN.md §3). */
typedef struct ktrdr_indicator_request {
    const char *kind;                /* "SMA", "EMA", "RSI", "BollingerBands", … (aliases as in a strategy file) */
    const char *const *param_names;  /* parameters given; the others take the indicator's defaults */
    const double *param_values;
    int64_t param_count;
    const char *source;              /* "close" when NULL; "open", "high", "low", "volume" */
    int64_t output;                  /* 0, or the index of an output of a multi-output indicator */
} ktrdr_indicator_request;

/* ABI 1.1: indicators the host computes once per bar series and shares between strategy
   instances (the trials of a sweep). `series` returns `bars->count` doubles (NaN during
   warm-up) for the bars of the current compute call, valid until that call returns, or NULL
   with `error` set (unknown kind or parameter, value out of range). The same request always
   returns the same numbers, bit for bit, as the indicator computed alone over those bars. */
typedef struct ktrdr_indicator_host {
    void *context;
    const double *(*series)(void *context, const ktrdr_indicator_request *request, ktrdr_error *error);
    void *reserved[4];
} ktrdr_indicator_host;

/* What a strategy instance is created from. */
typedef struct ktrdr_strategy_init {
    const char *config_yaml;  /* the strategy file's text */
    const char *config_path;  /* its path, for error messages */
    const ktrdr_model_ref *model; /* NULL unless the strategy has a `model:` section */
} ktrdr_strategy_init;

typedef struct ktrdr_strategy_table {
    /* Returns an instance, or NULL with `error` set. */
    void *(*create)(const ktrdr_strategy_init *init, ktrdr_error *error);
    void (*destroy)(void *instance);
    /* Bars of history needed before the first bar that can carry a signal. */
    int64_t (*warmup_bars)(void *instance);
    /* 1 if the strategy writes a confidence column, 0 if every signal is certain. */
    int32_t (*provides_confidence)(void *instance);
    /* Fills signal[t] (-1 SELL, 0 HOLD, 1 BUY) and, when provided, confidence[t] in [0, 1]
       for every bar; bar t may use bars <= t only. Returns 0 on success. */
    int32_t (*compute_signals)(void *instance, const ktrdr_bars *bars, int8_t *signal, double *confidence,
                               ktrdr_error *error);
    /* ABI 1.1, optional (NULL: the host calls compute_signals): compute_signals with the
       host's shared indicators. The host reads this field only from plugins of minor >= 1. */
    int32_t (*compute_signals_shared)(void *instance, const ktrdr_bars *bars, const ktrdr_indicator_host *indicators,
                                      int8_t *signal, double *confidence, ktrdr_error *error);
    void *reserved[7];
} ktrdr_strategy_table;

/* Training inputs for a model plugin. Features are row-major doubles; labels 0 BUY, 1 HOLD, 2 SELL. */
typedef struct ktrdr_train_request {
    const double *train_x; const int64_t *train_y; int64_t train_rows;
    const double *val_x; const int64_t *val_y; int64_t val_rows;
    const double *test_x; const int64_t *test_y; int64_t test_rows;
    int64_t input_size;
    int64_t output_size;
    const int64_t *hidden_layers; int64_t hidden_count;
    const char *activation; /* relu | tanh | sigmoid */
    double dropout;
    double learning_rate;
    int64_t batch_size;
    int64_t epochs;
    const char *optimizer;  /* adam | sgd */
    uint64_t seed;
    const char *output_path; /* where to write the TorchScript archive */
    /* Called after every epoch; a nonzero return stops training (KTRDR_ERR_CANCELLED). */
    int32_t (*on_epoch)(void *context, int64_t epoch, double loss, double train_accuracy, double val_accuracy);
    void *context;
} ktrdr_train_request;

typedef struct ktrdr_train_summary {
    int64_t epochs_run;
    double final_loss;
    double train_accuracy;
    double val_accuracy;
    double test_accuracy;
} ktrdr_train_summary;

typedef struct ktrdr_model_table {
    /* Loads a model file once; NULL with `error` set (KTRDR_ERR_MODEL) when corrupt. */
    void *(*load)(const char *path, ktrdr_error *error);
    void (*release)(void *model);
    int64_t (*input_size)(void *model);   /* -1 when the file does not say */
    int64_t (*output_size)(void *model);
    int32_t (*predict)(void *model, const double *x, int64_t rows, int64_t cols, double *out, ktrdr_error *error);
    int32_t (*train)(const ktrdr_train_request *request, ktrdr_train_summary *summary, ktrdr_error *error);
    /* Intra-op threads; the host calls it once, before any other call. */
    void (*set_threads)(int32_t threads);
    void *reserved[8];
} ktrdr_model_table;

typedef struct ktrdr_plugin_info {
    uint64_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;  /* sizeof(ktrdr_plugin_info) as the plugin was compiled */
    const char *build_signature; /* e.g. "swift=6.3" or "swift=6.3 libtorch=1.13.0" */
    int32_t kind;          /* ktrdr_plugin_kind */
    const char *name;
    const char *version;
    const char *description;
    const ktrdr_strategy_table *strategy; /* set when kind == STRATEGY */
    const ktrdr_model_table *model;       /* set when kind == MODEL */
    void *reserved[8];
} ktrdr_plugin_info;

/* The one exported symbol. */
typedef const ktrdr_plugin_info *(*ktrdr_plugin_descriptor_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
