/* summary.c -- Keras's model.summary() table for a net, byte for byte.
 *
 * The layout is print_summary() of keras/utils/layer_utils.py (Keras 2.3,
 * and tf.keras 2.0-2.8 as tensorflow/python/keras/utils/layer_utils.py) for
 * a functional, non-sequential model: 98-column lines, four columns ending
 * at int(98 * [.33, .55, .67, 1.]), a row per layer in Keras's layer order
 * (net_keras_order), then the parameter totals.  One line Keras lacks
 * follows its closing rule: the multiply-add count. */
#include "summary.h"

#include <stdlib.h>
#include <string.h>

#define LINE_LEN 98

/* Where each column ends: int(LINE_LEN * p) for p in .33, .55, .67, 1. */
static const int col_end[4] = {32, 53, 65, 98};

/* One row as Keras's print_row builds it: each field is appended, cut at its
 * column's end and space-padded to it; before the next field the last
 * character so far becomes a space, so a cut field ("conv2_block1_1_bn
 * (BatchNormali") keeps one blank before the next column.  Every row is
 * thus exactly LINE_LEN characters, trailing spaces included. */
static void print_row(FILE *out, const char *const field[4])
{
    char line[LINE_LEN + 1];
    int len = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            line[len - 1] = ' ';
        size_t room = (size_t)(col_end[i] - len), n = strlen(field[i]);
        if (n > room)
            n = room;
        memcpy(line + len, field[i], n);
        memset(line + len + n, ' ', room - n);
        len = col_end[i];
    }
    line[len] = '\0';
    fprintf(out, "%s\n", line);
}

static void rule(FILE *out, char c)
{
    char line[LINE_LEN + 1];
    memset(line, c, LINE_LEN);
    line[LINE_LEN] = '\0';
    fprintf(out, "%s\n", line);
}

/* A whole number with thousands separators, as Python's '{:,}' writes it. */
static const char *group3(char buf[64], double v)
{
    char digits[48];
    int n = snprintf(digits, sizeof digits, "%.0f", v);
    int neg = digits[0] == '-', o = 0;
    if (n < 0 || n >= (int)sizeof digits)
        return strcpy(buf, "?");
    for (int i = 0; i < n; i++) {
        int left = n - i;               /* digits from here to the end */
        if (i > neg && left % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_layer(FILE *out, const struct net *n, const struct layer *l)
{
    char name[128], shape[64], params[32], conn[2][80];
    snprintf(name, sizeof name, "%s (%s)", l->name, net_class_name(l->kind));
    /* tf.keras 2.x reports an InputLayer's output shape as a list of one
     * shape, "[(None, 224, 224, 3)]", which the column then cuts. */
    if (l->kind == LAYER_INPUT)
        snprintf(shape, sizeof shape, "[(None, %d, %d, %d)]", l->out_h, l->out_w, l->out_c);
    else if (l->flat)
        snprintf(shape, sizeof shape, "(None, %d)", l->out_c);
    else
        snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->out_h, l->out_w, l->out_c);
    snprintf(params, sizeof params, "%ld", l->params + l->frozen);
    /* Keras names an input as layer[node index][tensor index]; every layer
     * here is called once and has one output, so both are 0. */
    for (int j = 0; j < l->n_in; j++)
        snprintf(conn[j], sizeof conn[j], "%s[0][0]", n->layer[l->in[j]].name);

    const char *first[4] = {name, shape, params, l->n_in ? conn[0] : ""};
    print_row(out, first);
    for (int j = 1; j < l->n_in; j++) {
        const char *more[4] = {"", "", "", conn[j]};
        print_row(out, more);
    }
}

void summary_print(FILE *out, const struct net *n)
{
    static const char *const header[4] = {"Layer (type)", "Output Shape", "Param #",
                                          "Connected to"};
    char num[64];
    /* Keras's row order; without memory for it, the net's own order is
     * still a correct listing, if not Keras's. */
    int *order = n->n_layers ? net_keras_order(n) : NULL;

    fprintf(out, "Model: \"%s\"\n", n->arch.model_name[0] ? n->arch.model_name : n->arch.name);
    rule(out, '_');
    print_row(out, header);
    rule(out, '=');
    for (int i = 0; i < n->n_layers; i++) {
        print_layer(out, n, &n->layer[order ? order[i] : i]);
        rule(out, i == n->n_layers - 1 ? '=' : '_');
    }
    free(order);

    fprintf(out, "Total params: %s\n", group3(num, (double)(n->params + n->frozen)));
    fprintf(out, "Trainable params: %s\n", group3(num, (double)n->params));
    fprintf(out, "Non-trainable params: %s\n", group3(num, (double)n->frozen));
    rule(out, '_');
    fprintf(out, "FLOPs (multiply-adds): %s\n", group3(num, n->macs));
}
