"""Reference solutions for the course's exercises (练习参考答案).

Learners see one of these only when they ask for it::

    from helpers import checks
    checks.show_solution("scaled_scores")

Each function is deliberately short and written for reading, not for speed;
the tests run every ``checks.check_*`` against these functions.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "qkv_projection",
    "scores",
    "scaled_scores",
    "softmax",
    "attention",
    "self_attention",
    "causal_mask",
    "causal_attention",
    "softmax_backward",
    "multi_head_attention",
    "mha_param_count",
    "torch_mask",
    "previous_token_score",
    "induction_score",
    "same_token_score",
]


def qkv_projection(X, W_Q, W_K, W_V):
    """X: (n, d_model) -> Q: (n, d_k), K: (n, d_k), V: (n, d_v)."""
    # 每一行是一个词：用同一个 X 分别乘三个不同的权重矩阵
    Q = X @ W_Q
    K = X @ W_K
    V = X @ W_V
    return Q, K, V


def scores(Q, K):
    """Q: (n_q, d_k), K: (n_k, d_k) -> raw scores (n_q, n_k)."""
    # scores[i, j] = 第 i 个查询 · 第 j 个键；K 要转置，形状才能对上
    return Q @ K.T


def scaled_scores(Q, K):
    """Q: (n_q, d_k), K: (n_k, d_k) -> Q Kᵀ / √d_k."""
    d_k = Q.shape[-1]  # d_k 是每个查询/键向量的维度（列数），不是词的个数
    return Q @ K.T / np.sqrt(d_k)  # 除以 √d_k，不是 d_k


def softmax(scores):
    """Row-wise softmax of a (n_q, n_k) score matrix; every row sums to 1."""
    # 先减去每一行的最大值：结果不变，但 exp 的参数都 <= 0，不会溢出
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    e = np.exp(shifted)
    # 沿最后一个轴（键的方向）归一化；keepdims=True 让形状能正确广播
    return e / np.sum(e, axis=-1, keepdims=True)


def attention(Q, K, V):
    """Scaled dot-product attention: Q (n_q, d_k), K (n_k, d_k), V (n_k, d_v) -> Z (n_q, d_v)."""
    d_k = Q.shape[-1]
    s = Q @ K.T / np.sqrt(d_k)                      # 1. 打分并缩放 (n_q, n_k)
    s = s - s.max(axis=-1, keepdims=True)           # 2. 稳定的 softmax ...
    alpha = np.exp(s)
    alpha = alpha / alpha.sum(axis=-1, keepdims=True)  #    ... 每一行加起来等于 1
    Z = alpha @ V                                   # 3. 用权重对 V（不是 K）加权求和
    return Z                                        # 返回输出 Z，而不是权重 alpha


def self_attention(X, W_Q, W_K, W_V):
    """Self-attention of one sequence X (n, d_model) -> Z (n, d_v)."""
    # “自”注意力：Q、K、V 都来自同一个 X
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    d_k = K.shape[-1]  # 用 d_k 缩放，不是 d_model
    s = Q @ K.T / np.sqrt(d_k)
    s = s - s.max(axis=-1, keepdims=True)
    alpha = np.exp(s)
    alpha = alpha / alpha.sum(axis=-1, keepdims=True)
    return alpha @ V


def causal_mask(n):
    """Boolean (n, n) mask, True = may attend: token i sees tokens 0..i (itself included)."""
    # 下三角（含对角线）为 True；对角线以上是“未来”的词，为 False
    return np.tril(np.ones((n, n), dtype=bool))


def causal_attention(Q, K, V):
    """Scaled dot-product attention where query i only sees keys 0..i."""
    n, d_k = Q.shape
    s = Q @ K.T / np.sqrt(d_k)
    allowed = np.tril(np.ones((n, n), dtype=bool))
    # 掩码要在 softmax 之前：被挡住的位置填 -inf，softmax 之后权重正好是 0
    s = np.where(allowed, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)  # 每行至少有对角线一个有限值，不会出现 NaN
    alpha = np.exp(s)
    alpha = alpha / alpha.sum(axis=-1, keepdims=True)
    return alpha @ V


def softmax_backward(weights_row, grad_weights_row):
    """Gradient of the loss w.r.t. the scores of one row, given α = softmax(scores) and dL/dα."""
    a = np.asarray(weights_row)
    g = np.asarray(grad_weights_row)
    # 雅可比矩阵 J = diag(α) - α αᵀ，所以 J g = α ⊙ (g - α·g)
    return a * (g - np.dot(a, g))


# --- ch01 / ch02 exercises added for issue 11 ------------------------------

__all__ += ["qkv_shapes", "qkv_projection_linear", "permuted_output", "dot_cos_ranking", "batched_scores"]


def qkv_shapes():
    """10 words, d_model = 512, d_k = 64, d_v = 32: the (rows, cols) of each matrix."""
    n, d_model, d_k, d_v = 10, 512, 64, 32
    return {
        "X": (n, d_model),        # 每行一个词
        "W_Q": (d_model, d_k),    # 行数 = X 的列数；W_K 也一样
        "W_V": (d_model, d_v),    # V 的宽度由 d_v 决定
        "Q": (n, d_k),            # d_model 在 X @ W_Q 里被“消掉”
        "K": (n, d_k),
        "V": (n, d_v),
    }


def qkv_projection_linear(X, Wt_Q, Wt_K, Wt_V):
    """Weights stored like nn.Linear.weight, shape (d_out, d_model): Q = X Wt_Qᵀ, etc."""
    # 存放的是 W 的转置 (d_out, d_model)；X (n, d_model) 要乘 (d_model, d_out)，所以转回来
    return X @ Wt_Q.T, X @ Wt_K.T, X @ Wt_V.T


def permuted_output(Z_new, perm):
    """Original output from the reordered sentence's (no positional encoding); new word i = original word perm[i]."""
    # 置换等变：Z_new 的第 i 行就是原句第 perm[i] 个词的输出，放回第 perm[i] 行
    Z = np.empty_like(Z_new)
    Z[perm] = Z_new
    return Z


def dot_cos_ranking():
    """q = [1, 0, 1]; k1 = [2, 0, 2], k2 = [0, 0, 5], k3 = [1, 1, 1]."""
    # 点积: k1 → 4, k2 → 5, k3 → 2；余弦: k1 → 1.0, k2 → 0.707, k3 → 0.816
    dot_order = ["k2", "k1", "k3"]
    cos_order = ["k1", "k3", "k2"]
    return dot_order, cos_order


def batched_scores(Q, K):
    """Q: (..., n_q, d_k), K: (..., n_k, d_k) -> (..., n_q, n_k); any number of batch axes."""
    # 只交换最后两个轴；K.T 会把批次轴也倒过来
    return Q @ np.swapaxes(K, -1, -2)


def multi_head_attention(X, W_Q, W_K, W_V, W_O, n_heads):
    """Causal multi-head self-attention of a batch: X (b, n, d_model) -> Z (b, n, d_model)."""
    b, n, d_model = X.shape
    d_head = d_model // n_heads

    def split(M):  # (b, n, d_model) -> (b, n, h, d_head) -> (b, h, n, d_head)
        return M.reshape(b, n, n_heads, d_head).transpose(0, 2, 1, 3)

    Q, K, V = split(X @ W_Q), split(X @ W_K), split(X @ W_V)
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d_head)      # (b, h, n, n)；每个头除以 √d_head
    allowed = np.tril(np.ones((n, n), dtype=bool))     # 下三角：查询 i 只看键 j <= i
    s = np.where(allowed, s, -np.inf)                  # 广播到每一句、每一个头
    s = s - s.max(axis=-1, keepdims=True)
    alpha = np.exp(s)
    alpha = alpha / alpha.sum(axis=-1, keepdims=True)
    Z = (alpha @ V).transpose(0, 2, 1, 3).reshape(b, n, d_model)  # 换回 (b, n, h, d_head) 再拼接
    return Z @ W_O                                     # 最后的输出投影


def mha_param_count(d_model, n_heads, d_head, bias):
    """Learned numbers in one multi-head self-attention layer whose heads have d_head columns each."""
    inner = n_heads * d_head                     # h 个头拼起来的宽度（不一定等于 d_model）
    weights = 3 * d_model * inner + inner * d_model   # W_Q、W_K、W_V: d_model × inner；W_O: inner × d_model
    biases = (3 * inner + d_model) if bias else 0     # 每个偏置的长度 = 它那个投影的输出维度
    return weights + biases


def torch_mask(keep, n_heads):
    """Course keep-mask per sentence (b, n, n), True = may attend -> nn.MultiheadAttention's 3-D
    attn_mask (b·h, n, n), True = masked out; sentence-major: rows i·h … (i+1)·h−1 belong to sentence i."""
    blocked = ~np.asarray(keep, dtype=bool)      # PyTorch: True = 挡住
    return np.repeat(blocked, n_heads, axis=0)   # 每句连续重复 h 次（先句子后头），不是 np.tile


# ---------------------------------------------------------------------------
# ch06–08 exercises added for issue 11 (owner H8)
# ---------------------------------------------------------------------------

__all__ += ["attend_weights", "batched_self_attention", "padding_mask", "attend_loss_grad"]


def attend_weights(X, i, j, d_k):
    """W_Q, W_K (d_model, d_k) such that token i attends to token j: α[i, j] close to 1."""
    # 目标：只有第 i 个词的查询、第 j 个词的键指向同一个方向 u，其余词的查询和键都是 0。
    # X W = T 对 W 求解（n <= d_model 时 X 的行线性无关，伪逆给出精确解）。
    n = X.shape[0]
    u = np.zeros(d_k)
    u[0] = 1.0
    strength = 3.0 * d_k ** 0.25   # 分数 = strength² / √d_k = 9，其余分数都是 0：α[i, j] = e⁹ / (e⁹ + n − 1)
    T_Q = np.zeros((n, d_k))
    T_Q[i] = strength * u
    T_K = np.zeros((n, d_k))
    T_K[j] = strength * u
    X_pinv = np.linalg.pinv(X)
    return X_pinv @ T_Q, X_pinv @ T_K


def batched_self_attention(X, W_Q, W_K, W_V):
    """Self-attention of a batch X (b, n, d_model) -> Z (b, n, d_v); each sentence on its own."""
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V         # @ 对前面的轴（句子）逐个做矩阵乘法
    d_k = Q.shape[-1]                            # 最后一维才是 d_k
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)   # 只交换最后两个轴：(b, n, d_k) -> (b, d_k, n)
    s = s - s.max(axis=-1, keepdims=True)
    alpha = np.exp(s)
    alpha = alpha / alpha.sum(axis=-1, keepdims=True)
    return alpha @ V


def padding_mask(lengths, n):
    """Boolean (B, 1, n) key mask: True where position j < lengths[b] (a real word)."""
    lengths = np.asarray(lengths)
    real = np.arange(n)[None, :] < lengths[:, None]   # (B, n)：前 length 个位置是真实的词
    return real[:, None, :]                           # 中间加一个轴，广播到每一个查询行


__all__ += ["cached_causal_mask"]


def cached_causal_mask(n_q, n_k):
    """Boolean (n_q, n_k) causal mask: the queries are the last n_q of n_k positions."""
    # 第 r 个查询在整句里是第 n_k − n_q + r 个词，它能看键 0 … n_k − n_q + r
    query_pos = np.arange(n_k - n_q, n_k)[:, None]     # (n_q, 1)
    key_pos = np.arange(n_k)[None, :]                  # (1, n_k)
    return key_pos <= query_pos


def attend_loss_grad(scores_row, target):
    """∂L/∂s for L = -log softmax(s)[target]: α - e_target."""
    s = np.asarray(scores_row, dtype=float)
    alpha = np.exp(s - s.max())
    alpha = alpha / alpha.sum()
    grad = alpha.copy()            # log Σ e^{s_m} 对 s_m 的导数是 α_m
    grad[target] -= 1.0            # −s_t 对 s_t 的导数是 −1
    return grad


def batched_softmax(scores):
    """Stable softmax over the LAST axis of scores of any shape: (n_k,), (n_q, n_k), (b, n_q, n_k), …"""
    # axis=-1 是“键”那一维，不论前面有几维（批次、头）；axis=1 只在二维时碰巧是它
    shifted = scores - np.max(scores, axis=-1, keepdims=True)  # 每一行减去自己的最大值：不会溢出
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


__all__ += ["batched_softmax"]


def previous_token_score(weights):
    """One head's α (n, n) -> mean of α[i, i-1] over the queries i = 1 … n-1."""
    n = weights.shape[0]
    # 第 0 个词前面没有词，所以从 i = 1 开始；行 = 查询 i，列 = 它前面的键 i-1
    return float(np.mean([weights[i, i - 1] for i in range(1, n)]))


def induction_score(weights, src, dst, length):
    """Mean of α[i, i - (dst - src) + 1] over the copy's queries dst … dst+length-1."""
    offset = dst - src   # 复制段比第一次出现晚了 offset 个位置
    # 查询 i 的字上一次出现在 i - offset；归纳头要看的是那之后的一个字，所以 + 1
    return float(np.mean([weights[i, i - offset + 1] for i in range(dst, dst + length)]))


def same_token_score(weights, src, dst, length):
    """Mean of α[i, i - (dst - src)] over the copy's queries dst … dst+length-1."""
    offset = dst - src   # 复制段比第一次出现晚了 offset 个位置
    # 查询 i 在片段第一次出现时对应的位置是 i - offset：那里是同一个字本身（不 + 1）
    return float(np.mean([weights[i, i - offset] for i in range(dst, dst + length)]))
