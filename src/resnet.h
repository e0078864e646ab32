/* resnet.h -- the resnet library: open a ResNet once, classify images with it.
 *
 * The same engine as the `resnet` command (its classify is a loop over
 * these calls): the built-in models or a JSON spec, torchvision/timm
 * safetensors or Keras HDF5 weights, JPEG and PNG decoding, the model's own
 * preprocessing, and the packed-weight cache that lets a second process
 * start without repacking.
 *
 *     #include <resnet.h>      cc app.c $(pkg-config --cflags --libs resnet)
 *
 *     resnet_error err;
 *     resnet_model *m;
 *     if (resnet_open(&m, "resnet50", "resnet50.safetensors", NULL, &err) != 0) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 1;
 *     }
 *     float *probs = malloc(resnet_classes(m) * sizeof *probs);
 *     int top[5];
 *     if (resnet_classify_file(m, "cat.jpg", probs, &err) == 0) {
 *         int k = resnet_top_k(probs, resnet_classes(m), 5, top);
 *         for (int i = 0; i < k; i++)
 *             printf("%.3f %s\n", probs[top[i]], resnet_label(m, top[i]));
 *     }
 *     free(probs);
 *     resnet_close(m);
 *
 * Conventions.  Every call that can fail returns 0 or -1; on -1 it writes
 * one line into err->message naming the file, key or tensor at fault (err
 * may be NULL).  Nothing prints, nothing exits.  A model is used by one
 * thread at a time (open several for several threads); its forward pass
 * runs on OpenMP's threads (OMP_NUM_THREADS, else every core, or
 * resnet_options.threads).  Images are RGB, 8 bits per channel. */
#ifndef RESNET_H
#define RESNET_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RESNET_API __attribute__((visibility("default")))
#else
#define RESNET_API
#endif

/* An open model: spec, weights, forward plan and buffers. */
typedef struct resnet_model resnet_model;

typedef struct resnet_error {
    char message[1024];   /* one line, NUL-terminated */
} resnet_error;

/* How to open a model; NULL, or all fields 0, is the default. */
typedef struct resnet_options {
    int batch;      /* images per resnet_run; 0 = 1 */
    int winograd;   /* 1: 3x3 stride-1 convolutions by Winograd F(4x4,3x3) where
                     * faster (probabilities differ by ~1e-5) */
    int no_cache;   /* 1: neither use nor write the cache folder (packed weights, tuning) */
    int threads;    /* > 0: omp_set_num_threads(threads), for the whole process */
    int precision;  /* RESNET_FP32 (0); RESNET_INT8: the convolutions after a ReLU, and
                     * the stem, in int8, with the ranges `resnet calibrate` stored for
                     * the weights (none: resnet_open fails, saying so); RESNET_BF16:
                     * every convolution in bf16 */
    int full_decode;   /* 1: the _file calls decode JPEGs at full size, as plain
                        * torchvision does; 0: a JPEG at least twice the resize is
                        * decoded at 1/2, 1/4 or 1/8 scale, as Pillow's Image.draft */
} resnet_options;

#define RESNET_FP32 0
#define RESNET_INT8 8
#define RESNET_BF16 16

/* "0.1.0" */
RESNET_API const char *resnet_version(void);

/* Open `model`: a built-in name ("resnet50", "keras_resnet50v2", ...; NULL =
 * "resnet50") or the path of a JSON spec file.  `weights`: a .safetensors
 * or Keras .h5 file, or NULL for the model's default file in the cache
 * ($RESNET_HOME, else $XDG_CACHE_HOME/resnet, else ~/.cache/resnet), where
 * `resnet fetch` puts it.  *out is NULL after an error. */
RESNET_API int resnet_open(resnet_model **out, const char *model, const char *weights,
                           const resnet_options *options, resnet_error *err);

RESNET_API void resnet_close(resnet_model *m);

/* The model's name (the spec's `name`). */
RESNET_API const char *resnet_name(const resnet_model *m);

/* Number of classes, and the name of class `index` (NULL outside
 * 0..classes-1): the spec's labels file, or ImageNet-1k's for 1000 classes. */
RESNET_API int resnet_classes(const resnet_model *m);
RESNET_API const char *resnet_label(const resnet_model *m, int index);

/* The input resnet_run takes: batch x 3 x height x width floats. */
RESNET_API void resnet_input_shape(const resnet_model *m, int *batch, int *height, int *width);

/* Decode a JPEG or PNG file (EXIF orientation applied), preprocess it as
 * the model's spec says (the tensor torchvision, timm or Keras makes of
 * the PIL image, bit for bit), run it, and write its [classes] probabilities
 * into probs.  Runs a whole batch: open with batch 1 (the default) to
 * classify one image at a time. */
RESNET_API int resnet_classify_file(resnet_model *m, const char *path, float *probs,
                                    resnet_error *err);

/* The same for pixels in memory: rgb [height][width][3], rows `stride`
 * bytes apart (0 = width * 3). */
RESNET_API int resnet_classify_rgb(resnet_model *m, const unsigned char *rgb, int width,
                                   int height, int stride, float *probs, resnet_error *err);

/* The preprocessing alone, for batches: one image's tensor [3][height][width]
 * (resnet_input_shape) into `tensor`, e.g. slot i of a batch. */
RESNET_API int resnet_preprocess_file(const resnet_model *m, const char *path, float *tensor,
                                      resnet_error *err);
RESNET_API int resnet_preprocess_rgb(const resnet_model *m, const unsigned char *rgb, int width,
                                     int height, int stride, float *tensor, resnet_error *err);

/* The forward pass: input [batch][3][height][width] preprocessed ->
 * [batch][classes] probabilities, owned by m and valid until its next run.
 * With RESNET_INT8 the input is read as u8 over the range the model's
 * preprocessing produces: values outside it are clamped to it. */
RESNET_API const float *resnet_run(resnet_model *m, const float *input);

/* The indices of the k largest of probs[0..classes), largest first (ties:
 * the lower index); returns how many were written, min(k, classes). */
RESNET_API int resnet_top_k(const float *probs, int classes, int k, int *index);

#ifdef __cplusplus
}
#endif

#endif
