/* ops.c -- pooling, classifier and element-wise layers (see ops.h). */
#include "ops.h"

#include <float.h>
#include <math.h>

void ops_maxpool(const float *in, float *out, int n, int c, int in_h, int in_w,
                 int out_h, int out_w, int k, int stride, int pad_t, int pad_l)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *src = in + ((size_t)i * c + ch) * in_h * in_w;
            float *dst = out + ((size_t)i * c + ch) * out_h * out_w;
            for (int oy = 0; oy < out_h; oy++)
                for (int ox = 0; ox < out_w; ox++) {
                    float m = -FLT_MAX;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = oy * stride + ky - pad_t;
                            int ix = ox * stride + kx - pad_l;
                            float v = (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w)
                                          ? 0.0f : src[(size_t)iy * in_w + ix];
                            m = v > m ? v : m;
                        }
                    dst[(size_t)oy * out_w + ox] = m;
                }
        }
}

void ops_global_avgpool(const float *in, float *out, int n, int c, int h, int w)
{
    size_t plane = (size_t)h * w;
    for (int i = 0; i < n * c; i++) {
        double s = 0;
        for (size_t p = 0; p < plane; p++)
            s += in[(size_t)i * plane + p];
        out[i] = (float)(s / (double)plane);
    }
}

void ops_dense(const float *in, float *out, const float *w, const float *b,
               int n, int in_c, int out_c)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_c; o++) {
            const float *x = in + (size_t)i * in_c, *row = w + (size_t)o * in_c;
            float s = 0;
            for (int j = 0; j < in_c; j++)
                s += row[j] * x[j];
            out[(size_t)i * out_c + o] = s + (b ? b[o] : 0.0f);
        }
}

void ops_softmax(float *x, int n, int classes)
{
    for (int i = 0; i < n; i++) {
        float *row = x + (size_t)i * classes;
        float m = row[0];
        for (int j = 1; j < classes; j++)
            m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (int j = 0; j < classes; j++)
            sum += exp((double)row[j] - m);
        for (int j = 0; j < classes; j++)
            row[j] = (float)(exp((double)row[j] - m) / sum);
    }
}

void ops_affine(const float *in, float *out, const float *scale, const float *shift,
                int n, int c, size_t plane, int relu)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            size_t base = ((size_t)i * c + ch) * plane;
            for (size_t p = 0; p < plane; p++) {
                float v = in[base + p] * scale[ch] + shift[ch];
                out[base + p] = relu && v < 0 ? 0.0f : v;
            }
        }
}

void ops_add(const float *a, const float *b, float *out, size_t count, int relu)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) {
        float v = a[i] + b[i];
        out[i] = relu && v < 0 ? 0.0f : v;
    }
}

void ops_relu(const float *in, float *out, size_t count)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++)
        out[i] = in[i] > 0 ? in[i] : 0.0f;
}
