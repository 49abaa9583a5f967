"""Reference pipeline for `jiesu bench classify`: jieba + TfidfVectorizer + LinearSVC.

Benchmark only, never a product dependency. Reads a JSON file written by the Rust bench:
{"train": [[text, label], ...], "test": [[text, label], ...]}. Trains on train, predicts test,
and prints one JSON object on its last line with macro-F1, accuracy, throughput (messages/s,
jieba segmentation + vectorisation + prediction, one process) and training seconds.
"""

import json
import sys
import time


def main() -> None:
    import jieba
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.svm import LinearSVC

    jieba.setLogLevel(60)
    jieba.initialize()  # load the dictionary before any timing

    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    train_x = [t for t, _ in data["train"]]
    train_y = [l for _, l in data["train"]]
    test_x = [t for t, _ in data["test"]]
    test_y = [l for _, l in data["test"]]

    def segment(texts):
        return [" ".join(w for w in jieba.cut(t) if w.strip()) for t in texts]

    t0 = time.perf_counter()
    vec = TfidfVectorizer(
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
    )
    x = vec.fit_transform(segment(train_x))
    clf = LinearSVC(C=1.0)
    clf.fit(x, train_y)
    train_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    pred = clf.predict(vec.transform(segment(test_x)))
    predict_seconds = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "macro_f1": f1_score(test_y, pred, average="macro"),
                "accuracy": accuracy_score(test_y, pred),
                "throughput_msgs_per_s": len(test_x) / predict_seconds,
                "train_seconds": train_seconds,
                "n_train": len(train_x),
                "n_test": len(test_x),
                "python": sys.version.split()[0],
                "sklearn": sklearn.__version__,
                "jieba": getattr(jieba, "__version__", "?"),
            }
        )
    )


if __name__ == "__main__":
    main()
