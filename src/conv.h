/* conv.h -- the convolution kernel, with BatchNorm already folded into its
 * weights and bias, and the residual add and ReLU done as it writes. */
#ifndef RESNET_CONV_H
#define RESNET_CONV_H

struct conv_args {
    const float *in;    /* [n][in_c][in_h][in_w] */
    float *out;         /* [n][out_c][out_h][out_w] */
    const float *res;   /* NULL, or shaped like out: added before the ReLU */
    const float *w;     /* [out_c][in_c][k][k] */
    const float *b;     /* [out_c] */
    int n, in_c, in_h, in_w, out_c, out_h, out_w;
    int k, stride, pad_t, pad_l;   /* zero padding; bottom/right follow from out_h/out_w */
    int relu;
};

void conv_forward(const struct conv_args *a);

#endif
