//! Helpers shared by the integration tests.
#![allow(dead_code)]

use jiesu_text::{Classifier, TrainOptions};
use std::sync::OnceLock;

/// A small synthetic corpus: three labels with their own vocabulary plus shared filler.
pub fn toy_examples() -> Vec<(String, String)> {
    let topics = [
        (
            "城乡建设",
            ["小区停水", "楼顶水箱", "物业维修", "道路施工", "自来水管道"],
        ),
        (
            "教育文体",
            [
                "学校收费",
                "老师补课",
                "学生宿舍",
                "幼儿园学位",
                "教育局招生",
            ],
        ),
        (
            "卫生计生",
            ["医院挂号", "医生态度", "医保报销", "疫苗接种", "社区诊所"],
        ),
    ];
    let fillers = [
        "请领导重视",
        "希望尽快解决",
        "问题严重",
        "反映情况",
        "多次投诉",
    ];
    let mut out = Vec::new();
    for (label, words) in topics {
        for i in 0..30 {
            let text = format!(
                "{}{}，{}。{}{}",
                words[i % 5],
                words[(i / 5) % 5],
                fillers[i % 5],
                words[(i + 2) % 5],
                fillers[(i + 3) % 5]
            );
            out.push((text, label.to_string()));
        }
    }
    out
}

/// A model trained once on [`toy_examples`].
pub fn toy_model() -> &'static Classifier {
    static M: OnceLock<Classifier> = OnceLock::new();
    M.get_or_init(|| {
        Classifier::train(&toy_examples(), &TrainOptions::default()).expect("toy model trains")
    })
}
