Return-Path: <tanaka@nihon-shoji.co.jp>
Received: from mx01.nihon-shoji.co.jp (mx01.nihon-shoji.co.jp [198.51.100.88])
	by mx1.example.com (Postfix) with ESMTPS id 4YwqD31hXnz9sME
	for <alice@example.com>; Tue, 18 Feb 2025 02:15:26 +0100
Date: Tue, 18 Feb 2025 10:15:22 +0900
From: =?ISO-2022-JP?B?GyRCRURDZhsoQiAbJEJCQE86GyhC?= <tanaka@nihon-shoji.co.jp>
To: Alice Hart <alice@example.com>
Subject: Re: =?ISO-2022-JP?B?GyRCOCtAUSRiJGowTU1qGyhC?=
Message-Id: <20250218101522.5A6B7C@nihon-shoji.co.jp>
In-Reply-To: <5e8c1a3f-6b2d-4c9e-a7f0-2d4b6e8a1c3f@example.com>
References: <20250217093011.3F2A1B@nihon-shoji.co.jp>
 <5e8c1a3f-6b2d-4c9e-a7f0-2d4b6e8a1c3f@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit
X-Mailer: Becky! ver. 2.81.04

アリス様

お見積書を受領いたしました。社内で検討いたします。

田中 太郎
