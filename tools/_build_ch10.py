"""Build notebooks/10_induction_heads.ipynb (unexecuted) from the cell list below."""

import nbformat as nbf
from pathlib import Path

cells = []


def md(src, slide="-"):
    cells.append(nbf.v4.new_markdown_cell(src.strip("\n"), metadata={"slideshow": {"slide_type": slide}}))


def code(src, slide="-", tags=None):
    meta = {"slideshow": {"slide_type": slide}}
    if tags:
        meta["tags"] = tags
    cells.append(nbf.v4.new_code_cell(src.strip("\n"), metadata=meta))


md("""
# 第10章 · 看一个真正学会了的 Transformer：归纳头
*A trained 2-layer attention-only Transformer, its induction heads, and how to see them*

> **你在这里：** 词 → 嵌入+位置 → X → Q,K,V → Q·Kᵀ → ÷√d_k → (掩码) → softmax → α → α·V → Z → **再来一层**
> （前九章拆开了一层注意力的每一步；这一章把两层多头注意力叠起来、训练好，然后像做实验一样测量它学会了什么）
""", "slide")

md("""
## 本章速览

1. 一个只有两层注意力的小 Transformer，用 NumPy 训练，学会了“照抄”：一串随机汉字里出现过的片段，再出现时它能接着往下猜。
2. 逐位置的损失说明一切：副本里几乎猜对，第一次出现时只能瞎猜（≈ ln 40）。
3. 用两个数给每个头“验明正身”：前一词得分 (previous-token score) 和归纳得分 (induction score)。
4. 消融 (ablation)：去掉第 1 层的前一词头，第 2 层的归纳头就失明了——抄写需要两层配合。
5. K-组合 (K-composition)：第 2 层的键读的是第 1 层写进去的“前一个字”，用真实的权重矩阵看得见。
""", "slide")

md("""
## 学习目标

学完本章，你能够：

- 说清楚这个模型的任务、结构和每个矩阵的形状（两层、每层 2 个头、有 W_O 和残差连接，没有 MLP）；
- 用逐位置的损失判断模型“学会了什么、没学会什么”，并解释为什么随机部分的损失停在 ln 40 附近；
- 写出前一词得分和归纳得分的精确定义，并亲手算出来（练习会检查）；
- 用消融实验找出“抄写”依赖哪些头，而不是只看热力图猜；
- 用真实的 W_Q、W_K、W_V、W_O 说明 K-组合：第 2 层的头怎样读取第 1 层写下的信息；
- 输入自己的句子，看模型预测什么、每个头在看哪里，并说出它的局限。

## 前置知识

- [第7章 · 掩码与交叉注意力](07_masks_and_cross_attention.ipynb)：因果掩码 (causal mask)，第 i 个词只能看 0…i。
- [第8章 · 为什么是自注意力](08_why_self_attention.ipynb)：交叉熵以外的部分——反向传播、有限差分核对梯度、梯度下降训练。
- [第9章 · 多头注意力](09_multi_head_attention.ipynb)：切头 (split heads)、拼接、输出投影 W_O。
""", "slide")

code("""
import numpy as np
import helpers as h
from helpers import induction, induction_plots, checks, widgets

np.set_printoptions(precision=3, suppress=True)
params = induction.load_weights()          # 训练好的权重（本章不训练，只加载）
cfg = induction.CONFIG
print(cfg)
""")

# ---------------------------------------------------------------------------
md("""
## 1. 任务：一串随机字里藏着一段重复

训练数据是程序自己生成的，不需要下载。每条序列有 24 个字，每个字都从一张固定的 40 字字表里**均匀随机**地抽；
然后随机选一段长 4 到 12 个字的片段，把它原样复制到后面某个随机位置。
片段的长度、第一次出现的位置、副本的位置每条都不一样。

这样一来：

- 大部分字是纯随机的，谁也猜不出下一个字，最好的办法是 40 个字平均猜，损失 (loss) 是 ln 40；
- 只有副本里的字是可以猜的：它就是第一次出现时，同一个字后面跟着的那个字。
""", "slide")

code("""
print("字表（40 个字，编号 0–39）:", induction.VOCAB)
example = induction.make_batch(1, seed=7)
chars = induction.decode(example["tokens"][0])
src, dst, length = (int(example[k][0]) for k in ("src", "dst", "length"))
print("一条序列:", "".join(chars))
print(f"片段长 {length}：第一次出现在位置 {src}–{src + length - 1}「{''.join(chars[src:src + length])}」，"
      f"副本在位置 {dst}–{dst + length - 1}「{''.join(chars[dst:dst + length])}」")
""")

md("""
**先预测再看：** 在这条序列里，模型在哪些位置有希望猜对“下一个字”？在副本的**第一个**字上能猜对吗？

<details><summary>想好了再点开</summary>

副本的第一个字本身猜不出来：它前面的字是随机的，没有任何线索说“重复要开始了”。
从副本的第一个字**之后**开始，当前的字在前面出现过，它后面跟着什么就已经写在序列里了——模型只要“往回找、再往后挪一格”。
所以能猜对的是副本里的第 2 个到最后一个字，一共 length − 1 个。下一节的损失图会验证这一点。
</details>
""")

# ---------------------------------------------------------------------------
md("""
## 2. 模型：两层，只有注意力

| 一步 | 公式 | 形状 |
|---|---|---|
| 嵌入 + 位置 | X⁰ = W_E[字的编号] + W_pos[位置] | (24, 32)，d_model = 32 |
| 第 ℓ 层（ℓ = 1, 2） | Q = X W_Q，K = X W_K，V = X W_V，切成 2 个头 | 每个头 (24, 16)，d_head = 16 |
| 每个头 | Z_头 = softmax(Q_头 K_头ᵀ / √16 + 因果掩码) V_头 | (24, 16) |
| 拼接、输出投影、残差 | X ← X + [Z_头0, Z_头1] W_O | (24, 32) |
| 输出 | logits = X W_U，softmax 交叉熵 | (24, 40) |

和第9章的多头注意力一模一样，只是叠了两层，每层的输出**加回**输入（残差连接，residual connection）。
这里没有 MLP，也没有层归一化 (layer normalization)：字和字之间传递信息的**唯一**途径就是注意力头。
位置编码是学出来的 (learned positional embedding)：每个位置一个 32 维的向量 W_pos[t]，和字的嵌入 W_E 一起训练
（第1章用的是固定的正弦位置编码，为什么这里换掉见「常见疑问」）。
""", "slide")

code("""
for name, w in params.items():
    print(f"{name:6s} {str(w.shape):14s}", end="   ")
    if name in ("W_pos", "W_O"):
        print()
print("\\n参数总数:", sum(w.size for w in params.values()))
""")

md("""
上表说“每一层就是第9章的多头自注意力”。不要只信这句话：把第 1 层交给课程自己的
`h.multi_head_self_attention`（带 W_O 和因果掩码）算一遍，和模型内部的结果比较。
""")

code("""
tokens = example["tokens"][0]
out = induction.forward(params, tokens)
X0 = params["W_E"][tokens] + params["W_pos"][:24]
Z1, alpha1 = h.multi_head_self_attention(X0, params["W_Q"][0], params["W_K"][0], params["W_V"][0],
                                         n_heads=2, w_o=params["W_O"][0], mask=h.causal_mask(24))
print("第 1 层的 α 一致:", np.allclose(out["weights"][0, 0], alpha1))
print("残差流 X¹ = X⁰ + Z 一致:", np.allclose(out["resid"][1][0], X0 + Z1))
print("所有头的注意力权重 weights 的形状 (句子数, 层, 头, 查询, 键):", out["weights"].shape)
""")

md("""
训练由 `tools/train_induction.py` 完成：固定随机种子，每一步生成 32 条新序列，用 Adam 优化器
（一种会为每个权重自动调整步长的梯度下降），梯度是手推的反向传播（和第8章同一个思路，多了几层链式法则），
测试里用有限差分核对过。训练日志随课程一起提交，这里读出它的开头和结尾：
""")

code("""
log = induction.WEIGHTS_PATH.with_name("induction_training_log.txt").read_text(encoding="utf-8").splitlines()
steps = [line for line in log if line.startswith("step")]
print("\\n".join(log[:3]))
print("\\n".join(steps[:3] + ["..."] + steps[-2:]))
""")

# ---------------------------------------------------------------------------
md("""
## 3. 逐位置的损失：它学会了“抄”

对位置 t，模型输出“下一个字”的概率分布，损失是正确答案的 −log 概率（交叉熵，cross-entropy）。
40 个字平均猜，每个字的概率是 1/40，损失是 ln 40。先看刚才那一条序列：
""", "slide")

code("""
loss = induction.per_position_loss(params, tokens)[0]       # 位置 t 预测第 t+1 个字
rep_mask, rand_mask = induction.half_masks(example)
print("ln 40 =", round(np.log(40), 3))
print("副本里（可以猜）的损失:     ", loss[rep_mask[0]])
print("第一次出现（随机）的损失:   ", loss[rand_mask[0]])
""")

code("""
fig = induction_plots.position_loss_figure(chars, loss, rep_mask[0], rand_mask[0], cfg["vocab_size"])
""", "subslide")

md("""
图里每根柱子是“预测这个字”时的损失，横轴下面是被预测的字和它的位置。
蓝色（副本）几乎贴着 0，橙色（同一串字第一次出现）在 ln 40 那条虚线附近。
灰色里有一根比瞎猜还高得多：副本结束之后的那个字。看看模型在那里猜的是什么：
""")

code("""
t_end = dst + length - 1                 # 副本的最后一个字；它预测的是副本之后的那个字
logits = out["logits"][0, t_end]
print(f"位置 {t_end} 是「{chars[t_end]}」，模型猜下一个字是「{induction.VOCAB[int(np.argmax(logits))]}」，"
      f"实际是「{chars[t_end + 1]}」；第一次出现时「{chars[src + length - 1]}」后面跟的是「{chars[src + length]}」")
""")

md("""
模型“抄过了头”：它不知道副本在哪里结束，只要当前的字在前面出现过，就照着前面接着往下抄——
这次抄错了，而且错得很有把握，所以损失比瞎猜还高。

一条序列可能碰巧。换 512 条**训练时从没见过**的序列（另一个随机种子）再量一次，取平均：
""")

code("""
metrics = induction.evaluate(params)           # 512 条新序列
print(f"副本（重复的一半）平均损失:      {metrics['loss_rep']:.3f}")
print(f"第一次出现（随机的一半）平均损失: {metrics['loss_rand']:.3f}   （ln 40 = {np.log(40):.3f}）")
print(f"两者之比: {metrics['ratio']:.3f}")
""")

md("""
第一次出现时的损失和 ln 40 几乎一样：这些字本来就是随机的，没有哪个模型能猜得更好。
到了副本，同样的字、同样的顺序，损失降到了不到五分之一——模型没有背下任何一条序列（它们每次都是新的），
它学会的是一个**做法**：在上下文里找到重复，然后照着抄。这叫上下文学习 (in-context learning)。
""")

# ---------------------------------------------------------------------------
md("""
## 4. 头的分工：用测量说话

一共 4 个头（2 层 × 2 个头）。图和代码里层从 1 数（第1层、第2层），头在代码里从 0 数，在图里从 1 数（与头视图一致）。
看热力图猜“这个头在干什么”很容易看走眼，所以先给两个**可测量**的定义。α[i, j] 是查询 i 给键 j 的权重：

- **前一词得分**：所有查询 i = 1 … n−1 上 α[i, i−1] 的平均值。1 表示这个头永远只看紧挨着的前一个字。
- **归纳得分**：只看副本里的查询 i（dst ≤ i < dst + length）。当前的字上一次出现在 i − (dst − src)，
  它**后面那个字**在 i − (dst − src) + 1。归纳得分是 α[i, i − (dst − src) + 1] 的平均值。

两者都在 0 到 1 之间，并在 512 条新序列上取平均。先用循环、对一条序列的一个头算一遍前一词得分，再和辅助函数的矩阵写法比较：
""", "slide")

code("""
w = out["weights"][0]                      # (层, 头, 24, 24)，这条序列
a = w[0, 0]                                # 第 1 层、头 0
prev_loop = np.mean([a[i, i - 1] for i in range(1, 24)])
prev_matrix = induction.previous_token_scores(w)[0, 0]
print(f"循环: {prev_loop:.4f}   矩阵写法: {prev_matrix:.4f}   一致: {np.isclose(prev_loop, prev_matrix)}")
""")

code("""
prev, ind = metrics["prev_token"], metrics["induction"]
print("前一词得分（行 = 层，列 = 头）:\\n", prev)
print("归纳得分:\\n", ind)
prev_head = metrics["best_prev_head"]                 # 第 1 层里前一词得分最高的头
ind_head = int(np.argmax(ind[1]))                     # 第 2 层里归纳得分最高的头
head_name = induction_plots.head_label
print(f"第1层最好的前一词头: {head_name(0, prev_head)}（代码里 head={prev_head}），得分 {metrics['best_prev_layer1']:.3f}")
print(f"第2层最好的归纳头:   {head_name(1, ind_head)}（代码里 head={ind_head}），得分 {metrics['best_induction_layer2']:.3f}")
""")

code("""
fig = induction_plots.head_scores_figure(prev, ind)
""", "subslide")

md("""
两种得分把头分得很清楚：第 1 层有一个头的前一词得分远高于其它头，它就是**前一词头 (previous-token head)**；
第 2 层的两个头归纳得分都很高——两个头分担同一份工作，这在小模型里很常见，下面取得分更高的那个当作**归纳头 (induction head)**。
第 1 层的另一个头两种得分都低：它也在做事（下一节的消融会说明），只是不是这两种模式。

把这两个头在例子序列上的注意力画出来（行 = 查询，列 = 键，灰色斜线 = 因果掩码挡住的未来）：
""")

code("""
fig = induction_plots.heads_figure(
    chars, w, [(0, prev_head), (1, ind_head)],
    titles=[f"前一词头（{head_name(0, prev_head)}）",
            f"归纳头（{head_name(1, ind_head)}）"])
""", "subslide")

md("""
左图是一条紧贴对角线下方的斜线：每个字看它前一个字。
右图在副本的那几行（查询 = 副本里的字）出现了一条**平行于对角线、但往左偏了 dst − src 格**的斜线：
每个查询看的是“上一次出现的同一个字”的**下一个**位置——正是要抄的那个字。其它行没有可抄的东西，权重散开。
""")

md("""
热力图一次只能看一个头。**头视图 (head view)** 把同一条序列画两遍：上面一行是查询，下面一行是键，
查询 i 和键 j 之间连一条线，线的深浅就是 α[i, j]，每个头一种颜色（bertviz 的画法，横着排，适合汉字）。
先看静态图：第 2 层，两个头叠在一起，只画副本里一个查询字的线。
""")

code("""
q_demo = dst + 3                                   # 副本里的第 4 个字
print(f"查询：位置 {q_demo}「{chars[q_demo]}」；它上一次出现在位置 {q_demo - (dst - src)}，要抄的是位置 {q_demo - (dst - src) + 1}「{chars[q_demo - (dst - src) + 1]}」")
fig = widgets.head_view_figure(chars, w, layer=1, query=q_demo)
""", "subslide")

md("""
**先预测再动手：** 下面的面板里，把层换成第 1 层、只选前一词头：线会是什么形状？
再点「（全部）」让所有查询一起画出来，第 2 层的线又是什么样？

<details><summary>想好了再点开</summary>

第 1 层的前一词头：每个查询都连向它左边紧挨着的那个键，一排几乎平行的短斜线。
第 2 层：副本里的查询都连向“上一次出现之后的那个字”，一束平行的长斜线（偏移 dst − src − 1 格）；
副本之前的查询没有可抄的东西，线又淡又散，很多落在位置 0 上。
</details>
""")

code("""
widgets.head_view(chars, w, layer=1, query=q_demo)
""", tags=["nbval-ignore-output"])

md("""
**模型视图 (model view)** 把 2 层 × 2 个头的头视图缩小排成一张表，一眼看完整个模型。静态图和面板：
""")

code("""
fig = widgets.model_view_figure(chars, w, query=q_demo)
""", "subslide")

code("""
widgets.model_view(chars, w, query=q_demo)
""", tags=["nbval-ignore-output"])

# ---------------------------------------------------------------------------
md("""
## 5. 消融：去掉一个头会怎样？

相关不等于因果：一个头的得分高，不代表模型真的**靠**它。消融 (ablation) 是直接的实验：
把一个头的输出 Z_头 换成 0（其余都不变），再量一次副本上的损失。

**先预测：** 四个头里，去掉哪一个会让副本上的损失涨得最多？去掉第 1 层的前一词头会怎样——它又不直接输出预测？

<details><summary>想好了再点开</summary>

第 2 层的两个头都在做归纳：去掉其中一个，另一个还能顶上一部分，副本损失只涨一部分。
去掉第 1 层的前一词头却不一样：第 2 层的两个头要找“前一个字是当前字”的位置，
而“前一个字是什么”这条信息只有前一词头会写进每个位置——它没有替补，副本损失会涨到接近瞎猜。
下面的数字和第 6 节的矩阵会说明这一点。
</details>
""", "slide")

code("""
table = metrics["ablation"]
base_rep, base_rand = table["baseline"]
print(f"不消融：副本损失 {base_rep:.3f}，第一次出现 {base_rand:.3f}")
for layer in range(2):
    for head in range(2):
        print(f"去掉 {head_name(layer, head)}: 副本损失 {table['rep'][layer, head]:.3f}")
print(f"去掉前一词头后，副本损失 = {metrics['ablation_ratio']:.2f} × 第一次出现的损失")
""")

code("""
fig = induction_plots.ablation_figure(table["rep"], base_rep, base_rand)
""", "subslide")

md("""
去掉第 1 层的前一词头，副本上的损失涨到了接近瞎猜的水平（上面打印的倍数），即使第 2 层的两个头完好无损。
它们“失明”了吗？直接量一下：同样去掉前一词头，看第 2 层两个头的归纳得分。
""")

code("""
batch = induction.make_batch(512, seed=induction.EVAL_SEED)
mask = np.ones((2, 2))
mask[0, prev_head] = 0.0                                  # 只去掉第 1 层的前一词头
w_ablated = induction.forward(params, batch["tokens"], head_mask=mask)["weights"]
ind_ablated = induction.induction_scores(w_ablated, batch)[1]
print("第 2 层两个头的归纳得分，完整模型:   ", ind[1])
print("第 2 层两个头的归纳得分，去掉前一词头:", ind_ablated)
""")

md("""
第 2 层的 W_Q、W_K 一点没变，但它们找不到该看的位置了：它们需要的线索由第 1 层提供。
这就是“两层配合”。下一节用矩阵看清这条线索是怎么传过去的。
""")

# ---------------------------------------------------------------------------
md("""
## 6. 为什么能行：K-组合

归纳头在查询 i 上要做的事：在前面找一个位置 j，**j 的前一个字 = i 上的字**，然后看 j。
分数是 q_i · k_j / √d_head。问题是：位置 j 本来只有“自己是什么字”，哪来的“前一个字”？

答案在残差流里。第 1 层的前一词头在位置 j 看向 j−1，把 j−1 的字经过 W_V、W_O 写进了 X¹ 的第 j 行。
第 2 层算键时用的是 X¹：k_j = X¹_j W_K，于是键里既有 j 自己的字，也有前一词头写进来的“前一个字”。
第 2 层的键读取了第 1 层头的输出，这叫 **K-组合 (K-composition)**。

只看和字有关的部分（忽略位置项和其它头，e_a 是字 a 的嵌入 W_E[a]，W_QK = W_Q W_Kᵀ / √16，都取归纳头那 16 列）：

| 表 | 元素 [a, b] | 含义 |
|---|---|---|
| 直接 (direct) | e_a W_QK e_bᵀ | 查询字 a 对“键位置上的字是 b”的偏好 |
| K-组合 (composed) | e_a W_QK (e_b W_V¹ W_O¹)ᵀ | 查询字 a 对“前一词头写进来的字是 b”的偏好 |

两张表都是 40 × 40。如果归纳头靠 K-组合工作，右表的**对角线**（a = b：前一个字正好是当前字）应该最大。
""", "slide")

code("""
direct, composed = induction.composition_scores(params, prev_head, ind_head)
print("两张表的形状:", direct.shape, composed.shape)
diag = np.arange(40)
for name, M in [("直接", direct), ("K-组合", composed)]:
    hits = np.mean(np.argmax(M, axis=1) == diag)
    off = M[~np.eye(40, dtype=bool)]
    print(f"{name:5s}: 每行最大值落在对角线上的比例 {hits:.2f}；对角线平均 {M.diagonal().mean():+.2f}，其余平均 {off.mean():+.2f}")
""")

md("""
只画前 12 个字（今、天、气、很、好、，……）的那一块，左右两张用同一个颜色范围：
""")

code("""
k = 12
labels = list(induction.VOCAB[:k])
fig = induction_plots.composition_figure(direct[:k, :k], composed[:k, :k], labels,
                                         limit=float(np.abs(composed).max()))
""", "subslide")

md("""
左边（键位置上的字本身）没有对角线：归纳头并不找“和我一样的字”，那样只会看到上一次出现的同一个字，抄错一位。
右边（前一词头写进来的“前一个字”）一条深红的对角线：查询「天」最喜欢的键，是前一个字为「天」的位置。

这个表是一个近似：它假设前一词头把全部注意力都给了 j−1，并且忽略了位置编码带来的分数。
它说明的是分数里**和字有关**的那一部分怎样通过 W_V¹ W_O¹ 从第 1 层流到第 2 层的键——这正是第 5 节里去掉前一词头会让归纳头失明的原因。
""")

# ---------------------------------------------------------------------------
md("""
## 7. 自己输入一句话

`induction.predict_next(params, 文本)` 给出模型最有把握的 3 个“下一个字”，
`induction.where_heads_look(params, 文本)` 列出最后一个字的查询在每个头里最看重的键。改一改引号里的句子再运行：
""", "slide")

code("""
text = "今天天气很好，今天天气"
print("模型猜下一个字:", [(c, round(p, 3)) for c, p in induction.predict_next(params, text)])
for r in induction.where_heads_look(params, text):
    print(f"  {head_name(r['layer'], r['head'])}: 最后一个字「{text[-1]}」最看重位置 {r['key']}「{r['char']}」，权重 {r['weight']:.2f}")
""")

md("""
用头视图看同一句话：第 2 层，最后一个字的查询（静态图），然后是可以换层、换头、换查询的面板。
""")

code("""
w_text = induction.attention_weights(params, induction.encode(text))    # (2, 2, n, n)
fig = widgets.head_view_figure(list(text), w_text, layer=1, query=len(text) - 1)
""", "subslide")

code("""
widgets.head_view(list(text), w_text, layer=1, query=len(text) - 1)
""", tags=["nbval-ignore-output"])

md("""
**先预测再看：** 把句子换成 `今天天气很好，今天天`（少最后一个字）。模型会猜「天」还是「气」？归纳头会看哪里？

<details><summary>想好了再点开</summary>

「天」在前面出现了两次（位置 1 和 2），后面分别跟着「天」和「气」。归纳头会把注意力分给这两个候选位置，
预测也在两者之间摇摆——它不知道“今天天气”是一个词，只知道“天后面出现过什么”。运行一下看看实际的比例。
</details>
""")

code("""
for text in ["今天天气很好，今天天", "他是我的好学生", "好大的山水，好大的山"]:
    best = induction.predict_next(params, text)
    print(f"{text:12s} → {[(c, round(p, 3)) for c, p in best]}")
""")

md("""
诚实地说，这个模型能做的很少：

- **只认识 40 个字。** 字表之外的字（比如「蝴蝶」）它没有嵌入向量，`encode` 会直接报错，而不是假装认识：
""")

code("""
try:
    induction.encode("小猫追逐蝴蝶")
except ValueError as err:
    print("ValueError:", str(err)[:60], "…")
""")

md("""
- **没有语义。** 训练数据是随机字，它从没见过一句真正的话。「他是我的好学生」没有重复，它给出的最高概率也只有百分之几（均匀瞎猜是 1/40 = 0.025）；
  它猜「今天天气」后面是「很」，只是因为前面写过「天气很」，而不是因为懂天气。
- **最多 24 个字**（训练时的长度），更长的输入会报错。

大模型里的归纳头做的是同一件事，只是它们还有 MLP、几十层和海量的真实文本，所以“照抄”会和语义、语法混在一起。
""")

# ---------------------------------------------------------------------------
md("""
## 8. 常见疑问

<details><summary>为什么要让重复片段的位置和长度随机变化？</summary>

如果副本总在同一个位置开始，模型根本不需要找重复：它可以直接学“位置 12 抄位置 2”这种按绝对位置的规则。
课程开发时测过这种设置：前一词头根本没有出现，前一词得分接近 0。位置和长度随机，才逼着模型学会按**内容**找。
同样，副本的起点在 4 到 20 之间均匀地取：如果副本大多出现在序列后半段，模型在短句子（你自己输入的那种）上就抄不好。
</details>

<details><summary>第 1 层的另一个头在干什么？</summary>

它的两种得分都不高，但消融表显示去掉它副本损失也会变。小模型里的头常常身兼数职，
本章只给出测得清楚的结论，不给它编故事。想自己查：算一算它在例子序列上每一行最看重哪个位置。
</details>

<details><summary>为什么第 2 层有两个归纳头？</summary>

训练只要求损失低，没有要求“一个头只做一件事”。两个头都能从前一词头写下的信息里找到要抄的位置，
梯度就把两个都往这个方向推。所以去掉其中一个，另一个还能顶上一部分；练习 3 让你同时去掉两个。
</details>

<details><summary>能不能直接看热力图判断哪个是归纳头？</summary>

可以看出线索，但容易看走眼：一条序列里碰巧出现的重复字、对角线附近的模式，都可能误导人。
所以本章先定义得分、在 512 条新序列上取平均，再用消融验证“模型真的靠它”。
</details>

<details><summary>为什么随机部分的损失不是正好 ln 40？</summary>

ln 40 ≈ 3.689 是“完全均匀地猜”的损失，是随机字能达到的最好水平。模型略高于它，
是因为它在随机位置上也会被偶然的重复字骗到（随机序列里同一个字出现两次很常见），去“抄”一个错误的答案。
</details>

<details><summary>为什么不用第1章的正弦位置编码？</summary>

也可以：`python tools/train_induction.py --sinusoidal-pos` 训练的就是正弦位置编码的版本，它同样长出了前一词头和归纳头。
课程开发时在同样的数据、同样的训练步数下两种都试过：学出来的位置编码得到的前一词得分更高，所以课程附带的是这一版。
这只是这个小实验里的比较，不是说正弦位置编码更差。
</details>

<details><summary>这和 GPT 这样的大模型有什么关系？</summary>

Anthropic 的研究者（Elhage 等 2021，Olsson 等 2022）在真实的大语言模型里找到了同样的两头电路，
并发现它们出现的时刻正是模型上下文学习能力突然变强的时刻。本章的模型小到可以在几十秒内训练完、每个矩阵都能打印出来，
但机制是同一个。
</details>
""", "slide")

# ---------------------------------------------------------------------------
md("""
## 9. 练习

**练习 1（检查）**：写一个函数，输入一个头在一条序列上的注意力权重 `weights`（形状 (n, n)，行 = 查询），
返回它的前一词得分（第 4 节的定义）。
""", "slide")

code("""
def my_previous_token_score(weights):
    # 在这里写你的代码
    return None

checks.check_previous_token_score(my_previous_token_score)
""")

md("""
**练习 2（检查）**：写一个函数，输入 `weights`（形状 (n, n)）和重复片段的 `src`（第一次出现的起点）、`dst`（副本的起点）、`length`，
返回这个头的归纳得分。
""")

code("""
def my_induction_score(weights, src, dst, length):
    # 在这里写你的代码
    return None

checks.check_induction_score(my_induction_score)
""")

md("""
**练习 3（预测，再动手验证）**：如果同时去掉第 2 层的**两个**头，副本上的损失会是多少？会比第一次出现的损失还高吗？
用 `induction.half_losses(params, batch, head_mask=...)` 验证（`head_mask` 是 (2, 2) 的数组，0 = 去掉）。

**练习 4（思考）**：在第 6 节的 K-组合表里，把 `prev_head` 换成第 1 层的另一个头再算一遍。对角线还会是每行的最大值吗？为什么？

**练习 5（动手）**：用 `python tools/train_induction.py --steps 3000 --out /tmp/w.npz --log /tmp/log.txt` 训练一个只走 3000 步的模型，
再用 `induction.evaluate(induction.load_weights("/tmp/w.npz"))` 量它的四个数。前一词头出现了吗？（在一台普通电脑上要跑几十秒到几分钟。）

卡住了？`checks.show_solution("previous_token_score")`、`checks.show_solution("induction_score")` 可以看参考答案。
""")

md("""
## 小结

- 一个两层、只有注意力的 Transformer 在随机字序列上学会了上下文里的“照抄”：副本上的损失不到第一次出现时的五分之一。
- 前一词得分和归纳得分把头的分工变成了可以测量的数字；第 1 层有一个前一词头，第 2 层有一个归纳头。
- 消融说明这是一条**电路**：去掉前一词头，归纳头的权重都还在，却找不到该看的位置，副本损失回到接近瞎猜。
- K-组合：第 2 层的键读取第 1 层前一词头写进残差流的“前一个字”，W_E W_Q (W_E W_V¹ W_O¹ W_K)ᵀ 的对角线把这件事摆在眼前。
- 它没有语义、只认识 40 个字——但大模型里的归纳头做的是同一件事。

## 接下来

这是课程的最后一章。回到 [00 · 导读](00_course_overview.ipynb) 看一看整条路线：从一个点积，到读懂一个真正训练过的注意力模型。
""", "slide")

nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"] = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "rise": {"scroll": True, "transition": "none"},
}
out = Path(__file__).resolve().parents[1] / "notebooks" / "10_induction_heads.ipynb"
nbf.write(nb, out)
print("wrote", out, len(cells), "cells")
