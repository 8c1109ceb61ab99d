import pandas as pd

from workbench.privacy import mask_certno, mask_frame, mask_name


def test_mask_certno_and_names():
    assert mask_certno("370102199001011234") == "3701**********1234"
    assert mask_certno("12345") == "*****"
    assert mask_certno(None) is None
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李*"


def test_mask_frame_masks_only_sensitive_columns():
    df = pd.DataFrame({"psn_no": ["0001"], "certno": ["370102199001011234"], "psn_name": ["王小明"], "dr_name": ["赵医生"]})
    m = mask_frame(df)
    assert m.iloc[0].tolist() == ["0001", "3701**********1234", "王**", "赵**"]
    assert df.iloc[0]["certno"] == "370102199001011234"  # the input is untouched
