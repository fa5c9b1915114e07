from __future__ import annotations

import pytest

from core.normalize import find_salutation, parse_salutation
from core.normalize.people import ROLE_DEPUTY, ROLE_MEMBER, ROLE_ORGANISATION, ROLE_OTHER

SIXTEEN = (
    "林洪棋、李英妹、吴元邦、陈久斌、陈兆树、陈秋玲、陈俊忠、陈楠、林圣涵、林容、林梅芳、林翠花、"
    "郑倩倩、黄林敏、黄祖落、黄银义代表："
)


@pytest.mark.parametrize(
    ("line", "names", "role"),
    [
        pytest.param("黄彩欢代表：", ["黄彩欢"], ROLE_DEPUTY, id="deputy"),
        pytest.param("黄彩欢代表:", ["黄彩欢"], ROLE_DEPUTY, id="deputy-ascii-colon"),
        pytest.param("  黄彩欢代表：  ", ["黄彩欢"], ROLE_DEPUTY, id="padded"),
        pytest.param("刘建辉委员：", ["刘建辉"], ROLE_MEMBER, id="member"),
        pytest.param("尊敬的张三代表：", ["张三"], ROLE_DEPUTY, id="zunjing"),
        pytest.param("张三、李四代表：", ["张三", "李四"], ROLE_DEPUTY, id="two"),
        pytest.param("张三，李四委员：", ["张三", "李四"], ROLE_MEMBER, id="comma-separated"),
        pytest.param("张三、李四等3位代表：", ["张三", "李四"], ROLE_DEPUTY, id="deng-n-wei"),
        pytest.param("张三等代表：", ["张三"], ROLE_DEPUTY, id="deng"),
        pytest.param("陈楠代表们：", ["陈楠"], ROLE_DEPUTY, id="men"),
        pytest.param("买买提·艾力代表：", ["买买提·艾力"], ROLE_DEPUTY, id="minority-name"),
        pytest.param("王五同志：", ["王五"], ROLE_OTHER, id="comrade"),
        pytest.param("民盟中山市委员会：", ["民盟中山市委员会"], ROLE_ORGANISATION, id="org-committee"),
        pytest.param("九三学社中山市委：", ["九三学社中山市委"], ROLE_ORGANISATION, id="org-wei"),
        pytest.param("市工商联：", ["市工商联"], ROLE_ORGANISATION, id="org-gongshanglian"),
        pytest.param("市政协医药卫生界别：", ["市政协医药卫生界别"], ROLE_ORGANISATION, id="org-jiebie"),
    ],
)
def test_parse_salutation(line: str, names: list[str], role: str) -> None:
    found = parse_salutation(line)
    assert found is not None
    assert found.names == names
    assert found.role == role


def test_sixteen_joint_deputies() -> None:
    found = parse_salutation(SIXTEEN)
    assert found is not None
    assert len(found.names) == 16
    assert found.names[0] == "林洪棋"
    assert found.names[-1] == "黄银义"
    assert found.role == ROLE_DEPUTY


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("各位代表：", id="generic"),
        pytest.param("联 系 人：陈 玮", id="contact-line"),
        pytest.param("现答复如下：", id="intro"),
        pytest.param("答复类别：C类", id="class"),
        pytest.param("黄彩欢代表：您好，现答复如下。", id="text-after-colon"),
        pytest.param("再次感谢各位代表对医疗保障事业的关心和支持，欢迎代表们持续关注", id="sentence"),
        pytest.param("", id="empty"),
    ],
)
def test_not_a_salutation(line: str) -> None:
    assert parse_salutation(line) is None


def test_find_salutation_first_within_limit() -> None:
    paragraphs = ["厦医保函〔2025〕33号", "答复类别：C类", "叶少静代表：", "正文。", "张三代表："]
    found = find_salutation(paragraphs)
    assert found is not None
    assert found.names == ["叶少静"]
    assert find_salutation(["正文。"] * 30 + ["张三代表："]) is None
