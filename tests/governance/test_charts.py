from governance.charts import line_chart, nice_maximum


def test_it_rounds_the_axis_up_to_one_two_or_five_times_a_power_of_ten():
    assert [nice_maximum(v) for v in (0, 1, 3, 7, 10, 11, 180, 201, 4999)] == [
        1,
        1,
        5,
        10,
        10,
        20,
        200,
        500,
        5000,
    ]


def test_it_puts_grid_lines_on_whole_numbers():
    chart = line_chart(labels=["jan", "feb"], series=[("Tilbud", [120, 180])])
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100", "150", "200"]
    small = line_chart(labels=["jan"], series=[("Tilbud", [3])])
    assert [tick.label for tick in small.y_ticks] == ["0", "1", "2", "3", "4", "5"]


def test_it_places_points_from_the_bottom_left_and_scales_to_the_axis():
    chart = line_chart(
        labels=["jan", "feb", "mar"], series=[("Tilbud", [0, 100, 200])], width=400, height=300
    )
    points = chart.series[0].points
    assert points[0].x == chart.left
    assert points[-1].x == chart.plot_right
    assert points[0].y == chart.plot_bottom
    assert points[-1].y == chart.top
    assert points[1].y == (chart.top + chart.plot_bottom) / 2


def test_it_breaks_the_line_where_a_month_has_no_value():
    chart = line_chart(labels=["a", "b", "c", "d"], series=[("Overlap", [4, None, 6, 8])])
    path = chart.series[0].path
    assert path.count("M") == 2
    assert path.count("L") == 1


def test_it_tells_series_apart_without_colour():
    chart = line_chart(
        labels=["a", "b"], series=[("A", [1, 2]), ("B", [2, 3]), ("C", [3, 4]), ("D", [4, 5])]
    )
    assert len({series.dash for series in chart.series}) == 4
    assert len({series.colour for series in chart.series}) == 4


def test_a_narrow_chart_labels_fewer_months_and_keeps_room_for_the_last_label():
    months = [f"m{i}" for i in range(12)]
    wide = line_chart(labels=months, series=[("Tilbud", list(range(12)))])
    narrow = line_chart(
        labels=months, series=[("Tilbud", list(range(12)))], width=360, max_x_labels=3, right=32
    )

    assert len(wide.x_ticks) == 6
    assert [tick.label for tick in narrow.x_ticks] == ["m0", "m4", "m8"]
    assert narrow.plot_right == 328
    assert narrow.font_size == wide.font_size == 14
