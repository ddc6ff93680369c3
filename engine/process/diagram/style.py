"""The diagram's stylesheet, embedded in every SVG.

Every rule is scoped under the root class `oaf-bpmn`, so two diagrams on one page, or the page's own CSS,
cannot restyle each other. Shapes take their colour from `currentColor`, so a state class (done, current)
recolours a whole shape at once.
"""

STYLE = (
    '.oaf-bpmn{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#333}'
    ".oaf-bpmn text{fill:#222;stroke:none}"
    ".oaf-bpmn .shape{color:#333}"
    ".oaf-bpmn .outline{fill:#fff;stroke:currentColor;stroke-width:1.5}"
    ".oaf-bpmn .lane>.outline,.oaf-bpmn .group>.outline{fill:none}"
    ".oaf-bpmn .other>.outline{stroke:#999;stroke-dasharray:4 3}"
    ".oaf-bpmn .mark{fill:none;stroke:currentColor;stroke-width:1.5;stroke-linecap:round;stroke-linejoin:round}"
    ".oaf-bpmn .mark.bold{stroke-width:3}"
    ".oaf-bpmn .mark.fill{fill:#fff}"
    ".oaf-bpmn .solid{fill:currentColor;stroke:currentColor;stroke-width:1}"
    ".oaf-bpmn .knock{fill:none;stroke:#fff;stroke-width:1.2}"
    ".oaf-bpmn .dashed{stroke-dasharray:6 4}"
    ".oaf-bpmn .dotted{stroke-dasharray:1.5 3}"
    ".oaf-bpmn .dashdot{stroke-dasharray:8 3 1.5 3}"
    ".oaf-bpmn .flow{color:#555}"
    ".oaf-bpmn .line{fill:none;stroke:currentColor;stroke-width:1.5;stroke-linejoin:round}"
    ".oaf-bpmn .arrow{fill:currentColor;stroke:currentColor;stroke-width:1;stroke-linejoin:round}"
    ".oaf-bpmn .arrow.open{fill:#fff}"
    ".oaf-bpmn .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    ".oaf-bpmn .caption{color:#555}"
    ".oaf-bpmn .caption rect{fill:#fff;stroke:currentColor;stroke-width:1}"
    ".oaf-bpmn .caption text{fill:currentColor}"
    ".oaf-bpmn .done{color:#2e7d32}"
    ".oaf-bpmn .done>.outline{fill:#e8f5e9}"
    ".oaf-bpmn .flow.done .line{stroke-width:2}"
    ".oaf-bpmn .current{color:#1565c0}"
    ".oaf-bpmn .current>.outline{fill:#e3f2fd;stroke-width:3}"
    ".oaf-bpmn .outline.thick{stroke-width:4}"
    ".oaf-bpmn .current>.outline.thick{stroke-width:5}"
)
