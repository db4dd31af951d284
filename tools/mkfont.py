import sys
chars=set()
for hi in range(0xB0,0xF8):
    for lo in range(0xA1,0xFF):
        try: chars.add(bytes([hi,lo]).decode('gb2312'))
        except Exception: pass
for hi in range(0xA1,0xAA):  # punctuation, full-width forms, greek
    for lo in range(0xA1,0xFF):
        try: chars.add(bytes([hi,lo]).decode('gb2312'))
        except Exception: pass
chars |= {chr(c) for c in range(0x20,0x7f)}
chars |= set("αβγδεθλμπστφωΣΔ√·×÷−±∞≈≠≤≥→←↔⇒∑∏∈ᵀ₀₁₂₃₄₅₆₇₈₉ⁱʲ…—–“”‘’、。，；：？！（）《》【】「」·°✅❌ℓ⊙")
open('chars.txt','w').write(''.join(sorted(chars)))
print(len(chars))
