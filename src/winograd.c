/* winograd.c -- Winograd F(4x4, 3x3): the transformed weights, the plan of
 * a layer's work, and the portable kernel, the specification the SIMD
 * kernels (winograd_simd.inc) are tested against.
 *
 * The portable kernel spells the transforms out as the matrix products of
 * winograd.h with the matrices below; the SIMD kernels factor the same
 * products into a dozen adds and FMAs per row. */
#include "winograd.h"

#include <omp.h>
#include <string.h>

/* Interpolation points 0, 1, -1, 2, -2 and infinity (Lavin & Gray). */
static const double G[WINO_A][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};
static const float BT[WINO_A][WINO_A] = {
    {4, 0, -5, 0, 1, 0},
    {0, -4, -4, 1, 1, 0},
    {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0},
    {0, 2, -1, -2, 1, 0},
    {0, 4, 0, -5, 0, 1},
};
static const float AT[WINO_M][WINO_A] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};

int wino_applies(int k, int stride)
{
    return k == 3 && stride == 1;
}

static int cdiv(int a, int b) { return (a + b - 1) / b; }

int wino_plan(const struct conv_args *a, int threads, struct wino_plan *p)
{
    const int icb_n = blk_cb(&a->in), ocb_n = blk_cb(&a->out);
    threads = threads < 1 ? 1 : threads;
    p->tiles_h = cdiv(a->out.h, WINO_M);
    p->tiles_w = cdiv(a->out.w, WINO_M);
    p->tiles = a->n * p->tiles_h * p->tiles_w;

    /* A group's transformed input (36 x in_c floats a tile) stays in half
     * the L2, but a group has at least 28 tiles where the layer has them:
     * each weight vector loaded is used once per tile of the group, and
     * fewer uses than that make the kernel wait on the weights. */
    const size_t v_tile = (size_t)WINO_POS * icb_n * BLK * sizeof(float);
    int group = (int)((512 * 1024) / v_tile);
    group = group < 28 ? 28 : group;
    p->groups = cdiv(p->tiles, group);

    /* Every thread needs an item.  Another group reads all the weights
     * again, another chunk of output blocks transforms the input again: with
     * more output channels than tiles in a group the weights are the larger,
     * so split them. */
    p->chunks = 1;
    while (p->groups * p->chunks < threads) {
        if (p->chunks * WINO_OCB < ocb_n && a->out.c * p->groups >= p->tiles)
            p->chunks++;
        else if (p->groups < p->tiles)
            p->groups++;
        else
            break;
    }
    p->group = cdiv(p->tiles, p->groups);
    p->groups = cdiv(p->tiles, p->group);
    p->ocb_chunk = cdiv(cdiv(ocb_n, p->chunks), WINO_OCB) * WINO_OCB;
    p->chunks = cdiv(ocb_n, p->ocb_chunk);
    p->items = p->groups * p->chunks;
    p->threads = threads;
    p->scratch_floats = (size_t)WINO_POS * (icb_n + WINO_OCB) * p->group * BLK;
    /* Tiles past the output's edge are computed whole: on tiny outputs
     * (2x2: 36 multiply-adds either way) the transforms cannot pay.  At
     * 7x7, the smallest in the ResNets, Winograd does a third of the
     * direct multiply-adds, enough to pay for the transforms.
     * But the transformed weights are four times the direct ones (36 floats
     * per channel pair instead of 9), a network's do not stay in cache from
     * one pass to the next, and each is used once per tile: streaming 144
     * bytes per channel pair takes longer than the direct convolution's
     * 18 x pixels FLOPs when the pixels of the batch are fewer than 8 x the
     * CPU's FLOPs per byte of memory bandwidth, about 100 on the CPUs
     * measured (bench/README.md).  A 7x7 output then stays direct up to
     * batch 2. */
    return 2 * WINO_POS * p->tiles_h * p->tiles_w <= 9 * a->out.h * a->out.w &&
           (long)a->n * a->out.h * a->out.w >= WINO_MIN_PIXELS;
}

size_t wino_packed_floats(int out_c, int in_c)
{
    return (size_t)WINO_POS * ((out_c + BLK - 1) / BLK) * ((in_c + BLK - 1) / BLK) * BLK * BLK;
}

void wino_pack(float *dst, const float *w, const double *scale, int out_c, int in_c)
{
    const int ocb_n = (out_c + BLK - 1) / BLK, icb_n = (in_c + BLK - 1) / BLK;
    const size_t pos_stride = (size_t)ocb_n * icb_n * BLK * BLK;
    /* One 16 x 16 block of filters at a time, the 16 output channels
     * innermost (where the compiler vectorises), then 36 contiguous runs
     * of 1 KiB: scattering each filter's 36 values over the whole array
     * costs more than the arithmetic. */
    for (int ocb = 0; ocb < ocb_n; ocb++)
        for (int icb = 0; icb < icb_n; icb++) {
            float u[WINO_POS][BLK][BLK];   /* [pos][16 in][16 out] */
            memset(u, 0, sizeof u);        /* the spare lanes */
            const int ocs = out_c - ocb * BLK < BLK ? out_c - ocb * BLK : BLK;
            for (int i = 0; i < BLK && icb * BLK + i < in_c; i++) {
                double g[9][BLK] = {{0}}, t[WINO_A][3][BLK];
                for (int o = 0; o < ocs; o++) {
                    const int oc = ocb * BLK + o;
                    const float *src = w + ((size_t)oc * in_c + icb * BLK + i) * 9;
                    for (int k = 0; k < 9; k++)
                        g[k][o] = src[k] * scale[oc];
                }
                for (int r = 0; r < WINO_A; r++)   /* t = G g */
                    for (int c = 0; c < 3; c++)
                        for (int o = 0; o < BLK; o++)
                            t[r][c][o] = G[r][0] * g[c][o] + G[r][1] * g[3 + c][o] +
                                         G[r][2] * g[6 + c][o];
                for (int r = 0; r < WINO_A; r++)   /* U = t G^T */
                    for (int c = 0; c < WINO_A; c++)
                        for (int o = 0; o < BLK; o++)
                            u[r * WINO_A + c][i][o] = (float)(t[r][0][o] * G[c][0] +
                                                              t[r][1][o] * G[c][1] +
                                                              t[r][2][o] * G[c][2]);
            }
            float *d = dst + ((size_t)ocb * icb_n + icb) * BLK * BLK;
            for (int pos = 0; pos < WINO_POS; pos++)
                memcpy(d + pos * pos_stride, u[pos], sizeof u[pos]);
        }
}

/* V [36][icb_n][16] of tile (img, ty, tx): B^T d B for every input block,
 * the pixels outside the input read as zeros whatever the halo holds. */
static void input_tile(const struct conv_args *a, int img, int ty, int tx, float *v)
{
    const int icb_n = blk_cb(&a->in);
    const int y0 = ty * WINO_M - a->pad_t, x0 = tx * WINO_M - a->pad_l;
    for (int icb = 0; icb < icb_n; icb++) {
        float d[WINO_A][WINO_A][BLK], t[WINO_A][WINO_A][BLK];
        for (int i = 0; i < WINO_A; i++)
            for (int j = 0; j < WINO_A; j++) {
                const int y = y0 + i, x = x0 + j;
                if (y >= 0 && y < a->in.h && x >= 0 && x < a->in.w)
                    memcpy(d[i][j], blk_at(&a->in, img, icb, y, x), sizeof d[i][j]);
                else
                    memset(d[i][j], 0, sizeof d[i][j]);
            }
        for (int i = 0; i < WINO_A; i++)   /* t = B^T d */
            for (int j = 0; j < WINO_A; j++)
                for (int c = 0; c < BLK; c++) {
                    float s = 0;
                    for (int k = 0; k < WINO_A; k++)
                        s += BT[i][k] * d[k][j][c];
                    t[i][j][c] = s;
                }
        for (int i = 0; i < WINO_A; i++)   /* V = t B */
            for (int j = 0; j < WINO_A; j++)
                for (int c = 0; c < BLK; c++) {
                    float s = 0;
                    for (int k = 0; k < WINO_A; k++)
                        s += t[i][k][c] * BT[j][k];
                    v[((i * WINO_A + j) * icb_n + icb) * BLK + c] = s;
                }
    }
}

/* Output block ocb of tile (img, ty, tx) from its products m [36][16]:
 * A^T m A + bias (+ residual) (ReLU), the pixels inside the output only. */
static void output_tile(const struct conv_args *a, int img, int ocb, int ty, int tx,
                        const float m[WINO_POS][BLK])
{
    float t[WINO_M][WINO_A][BLK];
    for (int i = 0; i < WINO_M; i++)   /* t = A^T m */
        for (int j = 0; j < WINO_A; j++)
            for (int c = 0; c < BLK; c++) {
                float s = 0;
                for (int k = 0; k < WINO_A; k++)
                    s += AT[i][k] * m[k * WINO_A + j][c];
                t[i][j][c] = s;
            }
    for (int i = 0; i < WINO_M; i++)   /* Y = t A */
        for (int j = 0; j < WINO_M; j++) {
            const int y = ty * WINO_M + i, x = tx * WINO_M + j;
            if (y >= a->out.h || x >= a->out.w)
                continue;
            float *o = blk_at(&a->out, img, ocb, y, x);
            const float *r = a->res.p ? blk_at(&a->res, img, ocb, y, x) : NULL;
            for (int c = 0; c < BLK; c++) {
                float s = 0;
                for (int k = 0; k < WINO_A; k++)
                    s += t[i][k][c] * AT[j][k];
                s += a->b[ocb * BLK + c] + (r ? r[c] : 0.0f);
                o[c] = a->relu && s < 0 ? 0.0f : s;
            }
        }
}

/* One tile at a time: its input transform for all input blocks, then per
 * output block the 36 sums over input channels and the output transform. */
void wino_forward_c(const struct conv_args *a, const struct wino_plan *p, float *scratch)
{
    const int icb_n = blk_cb(&a->in), ocb_n = blk_cb(&a->out);
    const size_t u_pos = (size_t)ocb_n * icb_n * BLK * BLK;
#pragma omp parallel num_threads(p->threads)
    {
        float *v = scratch + (size_t)omp_get_thread_num() * p->scratch_floats; /* [36][icb_n][16] */
#pragma omp for schedule(static)
        for (int t = 0; t < p->tiles; t++) {
            const int img = t / (p->tiles_h * p->tiles_w);
            const int ty = t / p->tiles_w % p->tiles_h, tx = t % p->tiles_w;
            input_tile(a, img, ty, tx, v);
            for (int ocb = 0; ocb < ocb_n; ocb++) {
                float m[WINO_POS][BLK];
                for (int pos = 0; pos < WINO_POS; pos++) {
                    for (int o = 0; o < BLK; o++)
                        m[pos][o] = 0;
                    for (int icb = 0; icb < icb_n; icb++) {
                        const float *x = v + ((size_t)pos * icb_n + icb) * BLK;
                        const float *u = a->w + pos * u_pos + ((size_t)ocb * icb_n + icb) * BLK * BLK;
                        for (int i = 0; i < BLK; i++)
                            for (int o = 0; o < BLK; o++)
                                m[pos][o] += x[i] * u[i * BLK + o];
                    }
                }
                output_tile(a, img, ocb, ty, tx, (const float(*)[BLK])m);
            }
            /* the first tile of a tile row writes that row's halo */
            if (tx == 0) {
                const int y1 = ty * WINO_M + WINO_M < a->out.h ? ty * WINO_M + WINO_M : a->out.h;
                blk_zero_halo(&a->out, img, 0, ocb_n, ty * WINO_M, y1);
            }
        }
    }
}
